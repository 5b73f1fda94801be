"""Cloud Billing rules."""
