"""RBAC rules."""
