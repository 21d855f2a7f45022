"""lipread.io."""
