"""ec2 rules."""
