"""Image and video backbones: ResNet, DenseNet, VGG / VGG-M (torchvision parameter names), the
per-frame wrapper, the 3D lipreading front end + ResNet trunk, and DenseNet-3D.

Importing this package registers every backbone with :func:`lipread.models.register_model`.
"""

from lipread.models.backbones.densenet import DenseNet
from lipread.models.backbones.features import Backbone, count_params
from lipread.models.backbones.pretrained import adapt_input_conv, cached_download, load_pretrained
from lipread.models.backbones.resnet import ResNet
from lipread.models.backbones.vgg import VGG, VGGM
from lipread.models.backbones.video import DenseNet3D, FrameWise, Frontend3D, VideoResNet

__all__ = [
    "VGG",
    "VGGM",
    "Backbone",
    "DenseNet",
    "DenseNet3D",
    "FrameWise",
    "Frontend3D",
    "ResNet",
    "VideoResNet",
    "adapt_input_conv",
    "cached_download",
    "count_params",
    "load_pretrained",
]
