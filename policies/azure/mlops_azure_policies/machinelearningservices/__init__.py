"""Azure machinelearningservices rules."""
