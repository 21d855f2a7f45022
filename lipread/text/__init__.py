"""Text: normalization for scoring, vocabularies and the tokenizer."""

from lipread.text.normalize import DEFAULT, IDENTITY, Normalizer, normalize
from lipread.text.vocab import VOCABULARIES, Tokenizer

__all__ = ["DEFAULT", "IDENTITY", "Normalizer", "normalize", "VOCABULARIES", "Tokenizer"]
