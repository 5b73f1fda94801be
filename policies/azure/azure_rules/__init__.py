"""Rules of the mlops-platform Azure pack: one module per rule, each defining ``RULE``."""
