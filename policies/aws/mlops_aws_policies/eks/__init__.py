"""eks rules."""
