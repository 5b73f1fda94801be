"""GCP iam rules."""
