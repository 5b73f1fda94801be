"""elasticache rules."""
