"""iam rules."""
