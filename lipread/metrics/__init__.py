"""WER / CER scoring and reports."""

from lipread.metrics.wer import ErrorCounts, ScoreReport, UtteranceScore, cer, score, wer

__all__ = ["ErrorCounts", "ScoreReport", "UtteranceScore", "cer", "score", "wer"]
