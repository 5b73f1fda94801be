"""kms rules."""
