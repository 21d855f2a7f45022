"""lipread.models.backbones."""
