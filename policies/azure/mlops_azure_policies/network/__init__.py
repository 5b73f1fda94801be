"""network rules."""
