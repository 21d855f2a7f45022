"""ImageNet weights: read a torchvision state-dict file (local, or downloaded once into a cache) and
load it into a lipread backbone, adapting the first convolution to ``in_chans``.

    model = create_model("resnet18", in_chans=1, num_classes=0)
    load_pretrained(model, "~/weights/resnet18-f37072fd.pth")   # or a URL, or torchvision_url("resnet18")

``.pth`` files are read with ``torch.load(weights_only=True)`` (tensors only, no arbitrary pickles);
``.safetensors`` files with safetensors.
"""

from __future__ import annotations

import hashlib
import logging
import os
import re
import shutil
import tempfile
import urllib.error
import urllib.request
from collections.abc import Mapping
from pathlib import Path

import torch
from torch import nn

from lipread.errors import CheckpointError, InputFileError

log = logging.getLogger("lipread.models.pretrained")

_BASE = "https://download.pytorch.org/models/"
TORCHVISION_FILES = {
    "resnet18": "resnet18-f37072fd.pth",
    "resnet34": "resnet34-b627a593.pth",
    "resnet50": "resnet50-0676ba61.pth",
    "resnet101": "resnet101-63fe2227.pth",
    "resnet152": "resnet152-394f9c45.pth",
    "densenet121": "densenet121-a639ec97.pth",
    "densenet161": "densenet161-8d451a50.pth",
    "densenet169": "densenet169-b2777c0a.pth",
    "densenet201": "densenet201-c1103571.pth",
    "vgg11": "vgg11-8a719046.pth",
    "vgg11_bn": "vgg11_bn-6002323d.pth",
    "vgg13": "vgg13-19584684.pth",
    "vgg13_bn": "vgg13_bn-abd245e5.pth",
    "vgg16": "vgg16-397923af.pth",
    "vgg16_bn": "vgg16_bn-6c64b313.pth",
    "vgg19": "vgg19-dcbb9e9d.pth",
    "vgg19_bn": "vgg19_bn-c79401a0.pth",
}
HASH_IN_NAME = re.compile(r"-([a-f0-9]{6,})\.")  # torchvision files carry a sha256 prefix in their name
# old torchvision DenseNet files spell "norm.1" where modules now say "norm1"
_LEGACY_DENSENET = re.compile(
    r"^(.*denselayer\d+\.(?:norm|relu|conv))\.((?:[12])\.(?:weight|bias|running_mean|running_var|num_batches_tracked))$"
)


def torchvision_url(name: str) -> str:
    """Download address of torchvision's ImageNet weights for registered model ``name``."""
    if name not in TORCHVISION_FILES:
        raise InputFileError(
            f"no torchvision ImageNet weights known for {name!r}",
            fix=f"Known: {', '.join(TORCHVISION_FILES)}.",
        )
    return _BASE + TORCHVISION_FILES[name]


def default_cache_dir() -> Path:
    """``$LIPREAD_CACHE/weights`` or ``~/.cache/lipread/weights``."""
    root = os.environ.get("LIPREAD_CACHE") or Path.home() / ".cache" / "lipread"
    return Path(root) / "weights"


def cached_download(
    source: str | os.PathLike, cache_dir: str | os.PathLike | None = None, check_hash: bool = True
) -> Path:
    """A local path to ``source``: an existing file is returned as is; a URL (http, https, file) is
    downloaded once into ``cache_dir`` and then reused. When the file name carries a hash prefix
    (``name-<sha256 prefix>.pth``) the download is checked against it."""
    text = os.fspath(source)
    local = Path(text).expanduser()
    if "://" not in text:
        if not local.is_file():
            raise InputFileError(
                "weights file not found", local, "Give a local .pth/.safetensors file or a URL."
            )
        return local
    name = Path(urllib.request.urlparse(text).path).name
    target = Path(cache_dir) if cache_dir is not None else default_cache_dir()
    target.mkdir(parents=True, exist_ok=True)
    final = target / name
    if final.is_file():
        return final
    fd, tmp_name = tempfile.mkstemp(prefix=f".{name}.", dir=target)
    tmp = Path(tmp_name)
    try:
        log.info("downloading %s to %s", text, final)
        with os.fdopen(fd, "wb") as out, urllib.request.urlopen(text, timeout=60) as resp:
            shutil.copyfileobj(resp, out)
        match = HASH_IN_NAME.search(name)
        if check_hash and match:
            digest = hashlib.sha256(tmp.read_bytes()).hexdigest()
            if not digest.startswith(match.group(1)):
                raise CheckpointError(
                    f"downloaded file's sha256 {digest[:12]}... does not match the name's {match.group(1)}",
                    text,
                    "The download is corrupt or not the file named; try again or fetch it yourself.",
                )
        tmp.rename(final)
    except (urllib.error.URLError, OSError) as exc:
        raise InputFileError(
            f"could not download weights ({exc})", text, "Download the file yourself and pass its local path."
        ) from None
    finally:
        tmp.unlink(missing_ok=True)
    return final


def read_state_dict(path: str | os.PathLike) -> dict[str, torch.Tensor]:
    """Tensors of a ``.safetensors`` file or a torch ``.pth`` state dict (read with weights_only)."""
    path = Path(path)
    try:
        if path.suffix == ".safetensors":
            from safetensors.torch import load_file

            return load_file(str(path))
        state = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as exc:  # any reader failure means a bad file
        raise CheckpointError(f"cannot read weights ({type(exc).__name__}: {exc})", path) from None
    if isinstance(state, Mapping) and "state_dict" in state and isinstance(state["state_dict"], Mapping):
        state = state["state_dict"]
    if not isinstance(state, Mapping) or not all(isinstance(v, torch.Tensor) for v in state.values()):
        raise CheckpointError(
            "not a state dict of tensors", path, "Give a torchvision-style state-dict file."
        )
    return dict(state)


def adapt_input_conv(in_chans: int, weight: torch.Tensor) -> torch.Tensor:
    """First-conv weight (O, 3, ...) -> (O, in_chans, ...): the sum over RGB for one channel;
    otherwise RGB repeated and scaled by 3 / in_chans so activations keep their size (timm's rule)."""
    cin = weight.shape[1]
    if in_chans == cin:
        return weight
    w = weight.float()
    if in_chans == 1:
        return (
            w.sum(1, keepdim=True).to(weight.dtype)
            if cin == 3
            else w.mean(1, keepdim=True).mul(cin).to(weight.dtype)
        )
    reps = -(-in_chans // cin)
    w = w.repeat(1, reps, *([1] * (w.dim() - 2)))[:, :in_chans] * (cin / in_chans)
    return w.to(weight.dtype)


def remap_legacy_keys(state: Mapping[str, torch.Tensor]) -> dict[str, torch.Tensor]:
    """Rename old torchvision DenseNet keys (``denselayer1.norm.1.weight`` -> ``denselayer1.norm1.weight``)."""
    out = {}
    for k, v in state.items():
        m = _LEGACY_DENSENET.match(k)
        out[m.group(1) + m.group(2) if m else k] = v
    return out


def load_pretrained(
    model: nn.Module, source: str | os.PathLike | Mapping[str, torch.Tensor], strict: bool = True
) -> nn.Module:
    """Load a torchvision-style state dict (path, URL or mapping) into ``model``; returns ``model``.

    The first convolution is adapted when ``in_chans`` differs; the classifier is left out when the
    model's head differs (other ``num_classes``, or none); in ``features_only`` mode the weights of the
    removed modules are left out. Everything else must fit exactly (``strict``).
    """
    name = "<state dict>"
    if not isinstance(source, Mapping):
        name = os.fspath(source)
        source = read_state_dict(cached_download(source))
    state = remap_legacy_keys(source)
    own = model.state_dict()
    first = getattr(model, "first_conv", None)
    if first and first in state and first in own and state[first].shape != own[first].shape:
        state[first] = adapt_input_conv(own[first].shape[1], state[first])
    head = getattr(model, "head_prefix", None)
    if head:
        for k in [k for k in state if k.startswith(head)]:
            if k not in own or own[k].shape != state[k].shape:
                del state[k]
        for k in own:  # a new head (other num_classes) keeps its fresh initialisation
            if k.startswith(head) and k not in state:
                state[k] = own[k]
    ignore = tuple(getattr(model, "ignore_prefixes", ()))
    if ignore:
        state = {k: v for k, v in state.items() if k in own or not k.startswith(ignore)}
    if getattr(model, "features_only", False):
        state = {k: v for k, v in state.items() if k in own}
    try:
        model.load_state_dict(state, strict=strict)
    except RuntimeError as exc:
        lines = [ln.strip() for ln in str(exc).splitlines() if ln.strip()]
        raise CheckpointError(
            f"weights do not fit {type(model).__name__} ({' '.join(lines[1:3])[:300]})",
            name,
            "Use the weights of the same architecture (see torchvision_url).",
        ) from None
    return model
