"""Rules of the mlops-platform GCP pack: one module per rule, each defining ``RULE``."""
