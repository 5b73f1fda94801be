"""sqs rules."""
