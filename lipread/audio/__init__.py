"""lipread.audio."""
