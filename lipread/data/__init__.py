"""lipread.data."""
