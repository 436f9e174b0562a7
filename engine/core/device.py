"""The one device resolver: what `auto`, `cpu` and `cuda` mean for every part of the engine.

Training, the text encoder, retrieval and batch re-ranking all ask here, so a machine with a
GPU uses it everywhere and asking for CUDA on a machine without one fails the same way.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from engine.core.errors import ConfigError

if TYPE_CHECKING:
    import torch

DEVICE_CHOICES = ("auto", "cpu", "cuda")


def resolve_device(name: str, where: str = "device") -> torch.device:
    """`auto` picks CUDA when present; `cuda` without a GPU, or an unknown name, is a
    ConfigError that names `where` (the setting it came from)."""
    import torch

    if name == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    if name == "cuda" and not torch.cuda.is_available():
        raise ConfigError(f"{where}: 'cuda' requested but no CUDA GPU is available; "
                          "use cpu or auto.")
    try:
        device = torch.device(name)
    except (RuntimeError, TypeError):
        raise ConfigError(f"{where} must be one of {', '.join(DEVICE_CHOICES)} (or a torch "
                          f"device such as cuda:1), got {name!r}") from None
    if device.type == "cuda" and not torch.cuda.is_available():
        raise ConfigError(f"{where}: {name!r} requested but no CUDA GPU is available; "
                          "use cpu or auto.")
    return device
