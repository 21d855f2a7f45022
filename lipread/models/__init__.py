"""Models: backbones (ResNet, DenseNet, VGG, 3D front end), LipNet, WLAS, and the registry.

Importing this package registers every model.
"""

from lipread.models import (
    backbones,  # noqa: F401,E402  (registers resnet*, densenet*, vgg*, video_*)
    lipnet,  # noqa: F401,E402  (registers lipnet, lipnet_small, lipnet_tiny)
    wlas,  # noqa: F401,E402  (registers wlas, wlas_tiny)
)
from lipread.models.registry import MODELS, create_model, list_models, register_model

__all__ = ["MODELS", "create_model", "list_models", "register_model"]
