"""lipread.decoding."""
