"""Audio features (MFCC / log-mel) aligned to video frames."""

from lipread.audio.features import AudioFeatureConfig, compute_features

__all__ = ["AudioFeatureConfig", "compute_features"]
