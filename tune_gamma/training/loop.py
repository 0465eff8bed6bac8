"""One epoch of training and one evaluation, on tensors already on the device.

The data sets here fit in memory, so there is no DataLoader: the whole split lives on the device
and each epoch draws mini-batches from a seeded ``torch.randperm`` (the last batch may be short).
A non-finite training loss (a diverged learning rate) ends the epoch early without stepping on it;
``train_one_epoch`` then returns NaN and ``evaluate`` reports whatever the model now gives (NaN
loss when its outputs are no longer finite), so κ floors the trial at 0 instead of crashing it.
"""

from __future__ import annotations

import inspect
from collections.abc import Iterable
from typing import Any

import numpy as np
import torch
from numpy.typing import NDArray
from torch import nn

from tune_gamma.metrics import classification_report


def to_device(
    X: NDArray[np.float32], y: NDArray[np.int64], device: torch.device | str
) -> tuple[torch.Tensor, torch.Tensor]:
    """Copy one split to ``device`` once (through pinned memory when the target is CUDA)."""
    device = torch.device(device)
    Xt = torch.from_numpy(np.ascontiguousarray(X, dtype=np.float32))
    yt = torch.from_numpy(np.ascontiguousarray(y, dtype=np.int64))
    if device.type == "cuda":
        Xt, yt = Xt.pin_memory(), yt.pin_memory()
        return Xt.to(device, non_blocking=True), yt.to(device, non_blocking=True)
    return Xt.to(device), yt.to(device)


def train_one_epoch(
    model: nn.Module,
    optimizer: torch.optim.Optimizer,
    X: torch.Tensor,
    y: torch.Tensor,
    batch_size: int,
    generator: torch.Generator | None = None,
) -> float:
    """Train one pass over (X, y) in shuffled mini-batches; return the mean training loss.

    The mean is over the batches run, each weighted by its size. Returns NaN if a batch's loss
    was not finite (the epoch stops there, before that step).
    """
    if batch_size < 1:
        raise ValueError(f"batch_size must be >= 1, got {batch_size}")
    model.train()
    n = X.shape[0]
    perm = torch.randperm(n, generator=generator).to(X.device)
    total = torch.zeros((), device=X.device)
    for start in range(0, n, batch_size):
        idx = perm[start:start + batch_size]
        loss = nn.functional.cross_entropy(model(X[idx]), y[idx])
        if not torch.isfinite(loss):
            return float("nan")
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        optimizer.step()
        total += loss.detach() * idx.shape[0]
    return float(total) / n


@torch.no_grad()
def evaluate(
    model: nn.Module,
    X: torch.Tensor,
    y: torch.Tensor,
    batch_size: int = 1000,
    return_predictions: bool = False,
) -> dict[str, Any]:
    """Mean cross-entropy ("loss"), plus accuracy, macro sensitivity/specificity and MCC.

    The number of classes is the model's output width. With ``return_predictions`` the dict
    also holds "predictions", an int64 numpy array.
    """
    model.eval()
    loss_sum = torch.zeros((), dtype=torch.float64, device=X.device)
    preds = []
    num_classes = 0
    for start in range(0, X.shape[0], batch_size):
        logits = model(X[start:start + batch_size])
        num_classes = logits.shape[1]
        target = y[start:start + batch_size]
        loss_sum += nn.functional.cross_entropy(logits, target, reduction="sum").double()
        preds.append(logits.argmax(dim=1))
    pred = torch.cat(preds).cpu().numpy().astype(np.int64)
    loss = float(loss_sum) / X.shape[0]
    report: dict[str, Any] = {"loss": loss if np.isfinite(loss) else float("nan")}
    report.update(classification_report(y.cpu().numpy(), pred, num_classes))
    if return_predictions:
        report["predictions"] = pred
    return report


def _optimizer_class(name: str) -> type[torch.optim.Optimizer]:
    classes = {
        attr.lower(): obj
        for attr, obj in vars(torch.optim).items()
        if inspect.isclass(obj) and issubclass(obj, torch.optim.Optimizer)
        and obj is not torch.optim.Optimizer
    }
    try:
        return classes[name.lower()]
    except KeyError:
        raise ValueError(
            f"unknown optimizer {name!r}; expected a torch.optim class name such as "
            f"{', '.join(sorted(classes))}"
        ) from None


def make_optimizer(
    name: str,
    params: Iterable[torch.nn.Parameter] | Iterable[dict[str, Any]],
    lr: float,
    momentum: float = 0.0,
    weight_decay: float = 0.0,
) -> torch.optim.Optimizer:
    """``torch.optim.<name>`` (case-insensitive; "sgd" is the thesis's) with lr/momentum/decay.

    Raises:
        ValueError: unknown name, lr <= 0, or a non-zero momentum/weight_decay the class lacks.
    """
    cls = _optimizer_class(name)
    if not lr > 0:
        raise ValueError(f"lr must be > 0, got {lr!r}")
    accepted = inspect.signature(cls.__init__).parameters
    kwargs: dict[str, float] = {"lr": lr}
    for key, value in (("momentum", momentum), ("weight_decay", weight_decay)):
        if key in accepted:
            kwargs[key] = value
        elif value:
            raise ValueError(f"optimizer {name!r} takes no {key} (got {key}={value!r})")
    return cls(params, **kwargs)


def set_hyperparameters(
    optimizer: torch.optim.Optimizer,
    lr: float,
    momentum: float | None = None,
    weight_decay: float | None = None,
) -> None:
    """Write lr (and momentum / weight_decay where the groups have them) into every group."""
    for group in optimizer.param_groups:
        group["lr"] = lr
        if momentum is not None and "momentum" in group:
            group["momentum"] = momentum
        if weight_decay is not None and "weight_decay" in group:
            group["weight_decay"] = weight_decay
