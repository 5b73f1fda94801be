"""The mlops-platform Azure rules: one module per rule (``<service>/<resource>_<thing>.py``), each defining ``RULE``."""
