"""efs rules."""
