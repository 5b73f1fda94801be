"""GCP kms rules."""
