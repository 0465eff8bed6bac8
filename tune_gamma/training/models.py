"""The thesis's networks (Kim & Chung, Electronics 8(11):1267, 2019), built with torch.

``MODELS``:

* ``mlp6``: flatten → 6 × (Linear 100 → ReLU → Dropout p) → Linear(num_classes), p = ``dropout``
  (default 0.0). He initialisation (kaiming normal, fan_in, ReLU gain: Var w = 2/fan_in) on every
  Linear, biases 0. This is the demo default: on 8×8 digits, dropout 0.5 learns very slowly.
* ``mlp6-thesis``: the thesis's MNIST network (6 hidden layers of 100 units, ReLU, He init, the
  textbook example it follows) with dropout 0.5 after every hidden ReLU (``dropout`` overrides).
* ``keras-cnn``: the Keras CIFAR-10 example CNN: conv32-ReLU-conv32-ReLU-maxpool2-drop0.25-
  conv64-ReLU-conv64-ReLU-maxpool2-drop0.25-flatten-dense512-ReLU-drop0.5-dense(num_classes),
  3×3 kernels. Unlike the Keras example (whose second conv of each block is 'valid'), every conv
  here uses 'same' padding, so the spatial size only halves at each pool (32→16→8, 28→14→7,
  8→4→2) and the net also runs on 8×8 digits; on CIFAR-10 the flattened size is 64·8·8 = 4096
  instead of Keras's 64·6·6 = 2304. Initialisation as Keras's defaults: Glorot-uniform weights,
  zero biases. ``dropout`` = p, if given, sets the dense dropout to p and the two conv-block
  dropouts to p/2 (so None keeps 0.25/0.25/0.5, and 0 disables all).
"""

from __future__ import annotations

import torch
from torch import nn

MODELS: tuple[str, ...] = ("mlp6", "mlp6-thesis", "keras-cnn")
HIDDEN_UNITS = 100
HIDDEN_LAYERS = 6
THESIS_DROPOUT = 0.5


def build_model(
    name: str,
    input_shape: tuple[int, int, int],
    num_classes: int,
    dropout: float | None = None,
    *,
    initialise: bool = True,
) -> nn.Module:
    """Build ``name`` (one of ``MODELS``) for inputs of shape (C, H, W); see module doc.

    ``initialise=False`` builds it on PyTorch's meta device and runs no initialiser, for weights
    that are about to be loaded: the caller gives it storage with ``to_empty(device=...)``. The
    models have no buffers, so a state dict fills every tensor. Draws from torch's global RNG
    only when initialising.

    Raises:
        ValueError: unknown name, or dropout outside [0, 1).
    """
    if name not in MODELS:
        raise ValueError(f"unknown model {name!r}; expected one of {MODELS}")
    if dropout is not None and not 0.0 <= dropout < 1.0:
        raise ValueError(f"dropout must be in [0, 1), got {dropout!r}")
    device = None if initialise else torch.device("meta")
    if name == "keras-cnn":
        return _keras_cnn(input_shape, num_classes, dropout, device)
    default = THESIS_DROPOUT if name == "mlp6-thesis" else 0.0
    return _mlp6(input_shape, num_classes, default if dropout is None else dropout, device)


def _mlp6(input_shape: tuple[int, int, int], num_classes: int, dropout: float,
          device: torch.device | None) -> nn.Sequential:
    """Flatten → 6 hidden ReLU layers of 100 (dropout after each if p > 0) → logits, He init
    (none on the meta ``device``)."""
    c, h, w = input_shape
    layers: list[nn.Module] = [nn.Flatten()]
    width = c * h * w
    for _ in range(HIDDEN_LAYERS):
        layers += [nn.Linear(width, HIDDEN_UNITS, device=device), nn.ReLU()]
        if dropout > 0:
            layers.append(nn.Dropout(dropout))
        width = HIDDEN_UNITS
    layers.append(nn.Linear(width, num_classes, device=device))
    net = nn.Sequential(*layers)
    if device is None:
        for m in net.modules():
            if isinstance(m, nn.Linear):
                nn.init.kaiming_normal_(m.weight, mode="fan_in", nonlinearity="relu")
                nn.init.zeros_(m.bias)
    return net


def _keras_cnn(
    input_shape: tuple[int, int, int], num_classes: int, dropout: float | None,
    device: torch.device | None,
) -> nn.Sequential:
    """The Keras CIFAR-10 example CNN with 'same' padding everywhere, Glorot-uniform init (none
    on the meta ``device``)."""
    dense_p = 0.5 if dropout is None else dropout
    conv_p = 0.25 if dropout is None else dropout / 2
    c, h, w = input_shape

    def block(c_in: int, c_out: int) -> list[nn.Module]:
        return [
            nn.Conv2d(c_in, c_out, 3, padding="same", device=device), nn.ReLU(),
            nn.Conv2d(c_out, c_out, 3, padding="same", device=device), nn.ReLU(),
            nn.MaxPool2d(2), nn.Dropout(conv_p),
        ]

    features = nn.Sequential(*block(c, 32), *block(32, 64), nn.Flatten())
    if h < 4 or w < 4:
        raise ValueError(f"input {input_shape} too small for keras-cnn (needs H, W >= 4)")
    with torch.no_grad():
        flat = features(torch.zeros(1, c, h, w, device=device)).shape[1]
    net = nn.Sequential(
        *features,
        nn.Linear(flat, 512, device=device), nn.ReLU(), nn.Dropout(dense_p),
        nn.Linear(512, num_classes, device=device),
    )
    if device is None:
        for m in net.modules():
            if isinstance(m, (nn.Linear, nn.Conv2d)):
                nn.init.xavier_uniform_(m.weight)
                nn.init.zeros_(m.bias)
    return net
