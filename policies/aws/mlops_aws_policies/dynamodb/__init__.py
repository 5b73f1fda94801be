"""dynamodb rules."""
