"""lipread.face."""
