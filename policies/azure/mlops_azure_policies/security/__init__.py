"""Azure security (Defender for Cloud) rules."""
