"""The PyTorch function trainable for Ray Tune, written as Ray documents PBT trainables.

``make_trainable(spec)`` loads the data set once on the driver and returns
``tune.with_parameters(_train_classifier, spec=spec, data=splits)``, so the arrays travel through
Ray's object store (and so reach workers on other nodes). Use it as

    tune.run(make_trainable(spec), config={"lr": tune.uniform(1e-4, 0.5)}, ...)

Each trial:

1. reads its hyper-parameters from the config: "lr" (required, > 0) and optional "momentum",
   "weight_decay", "batch_size", "optimizer" overriding the spec; other keys are ignored;
2. starts from ``tune.get_checkpoint()`` if there is one (model and optimizer state; the config's
   lr/momentum/weight_decay are then written into the optimizer's groups), else calls
   ``torch.manual_seed(spec.seed)`` and builds the model, so every fresh trial starts from the
   same initial weights;
3. per epoch: trains one epoch with shuffling (and dropout) seeded by (spec.seed, epochs already
   trained), so trials of the same round see the same batches (common random numbers) and reruns
   are reproducible; evaluates on the validation split; reports ``METRIC_KEYS`` with a checkpoint
   directory holding ``CHECKPOINT_FILE`` (see ``checkpoint_payload``). Besides the metrics,
   ``epoch_time_s`` is the epoch's training and validation, ``restore_time_s`` what the trial
   spent before its first epoch (data to the device, reading the start checkpoint, building the
   model and optimizer; 0 on later epochs) and ``save_time_s`` serialising the checkpoint.

``start_trial`` and ``train_epoch`` are the trial's two steps as plain functions;
``tune_gamma.local`` runs the same rounds in one process with them.

κ: ``spec.kappa_form`` "improved" (thesis eq. 12) or "earlier" (eq. 11), see
``tune_gamma.objective``; "none" reports kappa = accuracy.
"""

from __future__ import annotations

import json
import math
import os
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import torch
from ray import train, tune
from torch import nn

from tune_gamma.objective import KAPPA_FORMS, kappa
from tune_gamma.training.data import DatasetSplits, load_dataset
from tune_gamma.training.loop import (
    evaluate,
    make_optimizer,
    set_hyperparameters,
    to_device,
    train_one_epoch,
)
from tune_gamma.training.memory import retain_freed_memory
from tune_gamma.training.models import build_model

CHECKPOINT_FILE = "model.pt"
METRIC_KEYS: tuple[str, ...] = (
    "accuracy", "loss", "kappa", "sensitivity", "specificity", "mcc",
    "lr", "epochs_trained", "train_loss", "epoch_time_s", "restore_time_s", "save_time_s",
)
KAPPA_CHOICES: tuple[str, ...] = (*KAPPA_FORMS, "none")
THESIS_WEIGHT_DECAY = 0.001


@dataclass(frozen=True)
class TrainSpec:
    """What to train; everything but the per-trial hyper-parameters in the config.

    ``weight_decay`` defaults to 0.0; the thesis's MNIST runs used ``THESIS_WEIGHT_DECAY``
    (0.001) with ``model="mlp6-thesis"``, batch 50 and SGD. ``max_epochs`` only caps a trial
    that nothing else stops (a scheduler or a ``stop`` condition normally does).
    """

    data: str = "digits"
    data_dir: str | None = None
    setting: str = "full"
    model: str = "mlp6"
    dropout: float | None = None
    seed: int = 0
    batch_size: int = 50
    momentum: float = 0.0
    weight_decay: float = 0.0
    optimizer: str = "sgd"
    kappa_form: str = "improved"
    lam: float = 0.5
    max_epochs: int = 1000
    device: str = "auto"

    def __post_init__(self) -> None:
        if self.kappa_form not in KAPPA_CHOICES:
            raise ValueError(f"unknown kappa_form {self.kappa_form!r}; expected {KAPPA_CHOICES}")
        if self.batch_size < 1:
            raise ValueError(f"batch_size must be >= 1, got {self.batch_size}")
        if self.max_epochs < 1:
            raise ValueError(f"max_epochs must be >= 1, got {self.max_epochs}")
        if not 0.0 < self.lam <= 1.0:
            raise ValueError(f"lam must be in (0, 1], got {self.lam!r}")


@dataclass(frozen=True)
class _Hyper:
    lr: float
    momentum: float
    weight_decay: float
    batch_size: int
    optimizer: str


def _hyperparameters(config: dict[str, Any], spec: TrainSpec) -> _Hyper:
    if "lr" not in config:
        raise ValueError(f"config must set 'lr' (the learning rate); got keys {sorted(config)}")
    lr = config["lr"]
    try:
        lr_value = float(lr)
    except (TypeError, ValueError):
        raise ValueError(f"config 'lr' must be a positive number, got {lr!r}") from None
    if not (math.isfinite(lr_value) and lr_value > 0):
        raise ValueError(f"config 'lr' must be a positive number, got {lr!r}")
    return _Hyper(
        lr=lr_value,
        momentum=float(config.get("momentum", spec.momentum)),
        weight_decay=float(config.get("weight_decay", spec.weight_decay)),
        batch_size=int(config.get("batch_size", spec.batch_size)),
        optimizer=str(config.get("optimizer", spec.optimizer)),
    )


def resolve_device(name: str = "auto") -> torch.device:
    """"auto" → CUDA when available (Ray sets CUDA_VISIBLE_DEVICES for a GPU trial), else CPU."""
    if name == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    return torch.device(name)


def epoch_seed(seed: int, epochs_trained: int) -> int:
    """Seed of the epoch after ``epochs_trained`` epochs: a hash of (seed, epochs_trained)."""
    return int(np.random.SeedSequence([seed, epochs_trained]).generate_state(1)[0])


def _jsonable(config: dict[str, Any]) -> dict[str, Any]:
    """The config's JSON-able entries as plain Python values (safe for weights_only loads)."""
    out: dict[str, Any] = {}
    for key, value in config.items():
        try:
            out[str(key)] = json.loads(json.dumps(value))
        except (TypeError, ValueError):
            continue
    return out


def checkpoint_payload(
    model: nn.Module,
    optimizer: torch.optim.Optimizer,
    epochs_trained: int,
    lineage: list[str],
    config: dict[str, Any],
    optimizer_name: str,
) -> dict[str, Any]:
    """What ``model.pt`` holds: model and optimizer state dicts, epochs_trained, lineage (trial
    ids, first ancestor first, this trial last), the JSON-able config, and the optimizer name."""
    return {
        "model": model.state_dict(),
        "optimizer": optimizer.state_dict(),
        "epochs_trained": int(epochs_trained),
        "lineage": list(lineage),
        "config": _jsonable(config),
        "optimizer_name": optimizer_name,
    }


def read_checkpoint(
    checkpoint: train.Checkpoint | str | os.PathLike[str], device: torch.device | str = "cpu"
) -> dict[str, Any]:
    """Load the payload from a Checkpoint, its directory, or the ``model.pt`` file itself.

    ``ray.tune.Checkpoint`` derives from ``ray.train.Checkpoint``; schedulers may hand out
    either, so the base class is what is checked.
    """
    if isinstance(checkpoint, train.Checkpoint):
        with checkpoint.as_directory() as directory:
            return read_checkpoint(directory, device)
    path = Path(checkpoint)
    if path.is_dir():
        path = path / CHECKPOINT_FILE
    return torch.load(path, map_location=device, weights_only=True)


def load_checkpoint_model(
    checkpoint: train.Checkpoint | str | os.PathLike[str],
    spec: TrainSpec,
    splits: DatasetSplits,
    device: torch.device | str = "cpu",
) -> tuple[nn.Module, dict[str, Any]]:
    """Rebuild the spec's model with a checkpoint's weights (eval mode) → (model, payload)."""
    payload = read_checkpoint(checkpoint, device)
    model = build_model(spec.model, splits.input_shape, splits.num_classes, spec.dropout,
                        initialise=False).to_empty(device=device)
    model.load_state_dict(payload["model"])
    model.eval()
    return model, payload


def make_trainable(
    spec: TrainSpec, splits: DatasetSplits | None = None
) -> Callable[[dict[str, Any]], None]:
    """The trainable for ``tune.run``: data loaded here once, shipped via the object store."""
    if splits is None:
        splits = load_dataset(spec.data, spec.data_dir, spec.setting, spec.seed)
    return tune.with_parameters(_train_classifier, spec=spec, data=splits)


def device_split(
    split: tuple[np.ndarray, np.ndarray], device: torch.device
) -> tuple[torch.Tensor, torch.Tensor]:
    """``to_device`` with row-major strides. A size-1 axis may carry any stride in numpy
    (digits' channel axis does), and torch then may run convolutions in another memory format,
    which rounds differently; a pickled array (what a Ray worker gets) has the usual strides.
    Copying such an array here makes a trial compute the same numbers in any process."""
    X, y = (t if t.stride() == _row_major(t.shape) else
            t.clone(memory_format=torch.contiguous_format) for t in to_device(*split, device))
    return X, y


def _row_major(shape: torch.Size) -> tuple[int, ...]:
    strides, step = [], 1
    for size in reversed(shape):
        strides.append(step)
        step *= size
    return tuple(reversed(strides))


def _kappa(spec: TrainSpec, accuracy: float, loss: float) -> float:
    if spec.kappa_form == "none":
        return accuracy
    return kappa(accuracy, loss, lam=spec.lam, form=spec.kappa_form)


@dataclass
class TrialState:
    """A trial's live training state: what one epoch needs and what a checkpoint saves."""

    model: nn.Module
    optimizer: torch.optim.Optimizer
    hp: _Hyper
    epochs: int
    lineage: list[str]


def start_trial(
    spec: TrainSpec,
    config: dict[str, Any],
    input_shape: tuple[int, int, int],
    num_classes: int,
    device: torch.device,
    payload: dict[str, Any] | None = None,
) -> TrialState:
    """Build the model seeded by ``spec.seed`` or, if ``payload`` (a ``checkpoint_payload``
    dict) is given, uninitialised (``build_model(initialise=False)``) and load the payload's
    model and optimizer state, with the config's lr/momentum/weight_decay written into the
    optimizer's groups. The payload's tensors may be aliased by the optimizer
    (``load_state_dict`` keeps tensors of the right dtype and device): pass a copy if it must
    stay untouched."""
    hp = _hyperparameters(config, spec)
    if payload:  # no initialiser runs: the payload overwrites every weight
        model = build_model(spec.model, input_shape, num_classes, spec.dropout,
                            initialise=False).to_empty(device=device)
    else:
        torch.manual_seed(spec.seed)
        model = build_model(spec.model, input_shape, num_classes, spec.dropout).to(device)
    optimizer = make_optimizer(
        hp.optimizer, model.parameters(), hp.lr, hp.momentum, hp.weight_decay
    )
    epochs, lineage = 0, []
    if payload:
        model.load_state_dict(payload["model"])
        if payload.get("optimizer_name", hp.optimizer).lower() == hp.optimizer.lower():
            optimizer.load_state_dict(payload["optimizer"])
        set_hyperparameters(optimizer, hp.lr, hp.momentum, hp.weight_decay)
        epochs = int(payload["epochs_trained"])
        lineage = [str(t) for t in payload["lineage"]]
    return TrialState(model, optimizer, hp, epochs, lineage)


def train_epoch(
    spec: TrainSpec,
    state: TrialState,
    train_split: tuple[torch.Tensor, torch.Tensor],
    val_split: tuple[torch.Tensor, torch.Tensor],
    generator: torch.Generator,
) -> dict[str, float]:
    """One seeded epoch (shuffling and dropout seeded by ``epoch_seed(spec.seed, epochs)``),
    then validation: returns the ``METRIC_KEYS`` metrics but ``restore_time_s`` and
    ``save_time_s`` (the trainable adds those) and advances ``state.epochs``."""
    seed = epoch_seed(spec.seed, state.epochs)
    generator.manual_seed(seed)
    torch.manual_seed(seed)
    start = time.perf_counter()
    train_loss = train_one_epoch(state.model, state.optimizer, *train_split, state.hp.batch_size,
                                 generator)
    state.epochs += 1
    result = evaluate(state.model, *val_split)
    return {
        "accuracy": result["accuracy"],
        "loss": result["loss"],
        "kappa": _kappa(spec, result["accuracy"], result["loss"]),
        "sensitivity": result["sensitivity"],
        "specificity": result["specificity"],
        "mcc": result["mcc"],
        "lr": state.hp.lr,
        "epochs_trained": state.epochs,
        "train_loss": train_loss,
        "epoch_time_s": time.perf_counter() - start,
    }


def state_payload(state: TrialState, config: dict[str, Any]) -> dict[str, Any]:
    """``checkpoint_payload`` of a trial's state (tensors shared with the live model)."""
    return checkpoint_payload(state.model, state.optimizer, state.epochs, state.lineage, config,
                              state.hp.optimizer)


def _train_classifier(config: dict[str, Any], spec: TrainSpec, data: DatasetSplits) -> None:
    """Function trainable: restore or seed-build, then train/evaluate/report each epoch."""
    entered = time.perf_counter()
    _hyperparameters(config, spec)  # a bad config fails before any work
    device = resolve_device(spec.device)
    if device.type == "cpu":
        torch.set_num_threads(1)
        retain_freed_memory()
    train_split = device_split(data.train, device)
    val_split = device_split(data.val, device)
    checkpoint = tune.get_checkpoint()
    payload = read_checkpoint(checkpoint, device) if checkpoint else None
    state = start_trial(spec, config, data.input_shape, data.num_classes, device, payload)
    trial_id = tune.get_context().get_trial_id()
    if not state.lineage or state.lineage[-1] != trial_id:
        state.lineage.append(trial_id)

    generator = torch.Generator()
    restore_time = time.perf_counter() - entered
    while state.epochs < spec.max_epochs:
        metrics = train_epoch(spec, state, train_split, val_split, generator)
        with tempfile.TemporaryDirectory() as tmp:
            saving = time.perf_counter()
            torch.save(state_payload(state, config), os.path.join(tmp, CHECKPOINT_FILE))
            metrics["restore_time_s"] = restore_time
            metrics["save_time_s"] = time.perf_counter() - saving
            restore_time = 0.0
            tune.report(metrics, checkpoint=tune.Checkpoint.from_directory(tmp))
