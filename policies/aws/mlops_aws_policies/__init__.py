"""AWS rules, one module per rule, grouped by service. Each module defines RULE."""
