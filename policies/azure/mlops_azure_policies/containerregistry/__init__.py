"""containerregistry rules."""
