"""Azure authorization rules."""
