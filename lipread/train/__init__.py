"""lipread.train."""
