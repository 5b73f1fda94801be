"""rds rules."""
