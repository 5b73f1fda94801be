"""Azure storage rules."""
