"""CloudWatch rules."""
