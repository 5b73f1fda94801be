"""Azure keyvault rules."""
