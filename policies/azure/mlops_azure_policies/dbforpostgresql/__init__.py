"""Azure dbforpostgresql rules."""
