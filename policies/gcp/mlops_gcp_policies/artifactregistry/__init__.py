"""GCP storage rules."""
