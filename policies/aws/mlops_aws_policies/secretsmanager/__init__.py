"""secretsmanager rules."""
