"""sns rules."""
