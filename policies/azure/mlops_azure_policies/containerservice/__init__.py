"""Azure containerservice rules."""
