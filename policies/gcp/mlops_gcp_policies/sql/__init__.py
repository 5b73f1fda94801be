"""GCP sql rules."""
