"""GCP container rules."""
