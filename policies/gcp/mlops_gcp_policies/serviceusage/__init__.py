"""Service Usage: every resource waits for the API it needs."""
