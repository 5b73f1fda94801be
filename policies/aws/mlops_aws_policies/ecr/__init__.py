"""ecr rules."""
