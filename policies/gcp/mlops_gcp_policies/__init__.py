"""The mlops-platform GCP rules: one module per rule (``<service>/<resource>_<thing>.py``), each defining ``RULE``."""
