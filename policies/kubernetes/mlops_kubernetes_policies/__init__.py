"""Kubernetes rules, one module per rule. Each module defines RULE."""
