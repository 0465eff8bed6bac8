"""What a closed round leaves on disk: ``rounds.json`` and round-level TensorBoard scalars.

Both go to the experiment's driver staging directory, which Tune syncs to the experiment
directory (local or cloud storage) with its own experiment state.
"""

from __future__ import annotations

import json
import math
import os
import tempfile
from typing import Any

from tune_gamma.json_safe import json_safe
from tune_gamma.rounds import RoundBook

ROUNDS_FILE = "rounds.json"
TENSORBOARD_DIR = "rounds"


def write_rounds_json(book: RoundBook, directory: str) -> str:
    """Atomically (write, then rename) replace ``directory/rounds.json``."""
    os.makedirs(directory, exist_ok=True)
    path = os.path.join(directory, ROUNDS_FILE)
    fd, tmp = tempfile.mkstemp(dir=directory, prefix=".rounds-", suffix=".json")
    with os.fdopen(fd, "w") as f:
        json.dump(json_safe(book.to_dict()), f, indent=1, allow_nan=False)
    os.replace(tmp, path)
    return path


class RoundScalars:
    """Per-round TensorBoard scalars: the winner's metric, accuracy, loss and parameters."""

    def __init__(self, directory: str) -> None:
        from tensorboardX import SummaryWriter

        self.directory = os.path.join(directory, TENSORBOARD_DIR)
        self._writer = SummaryWriter(self.directory)

    def log_round(self, book: RoundBook, index: int) -> None:
        record = book.rounds[index]
        if record.winner is None:
            return
        winner = book.trials[record.winner]
        metrics = winner.metrics or {}
        for key in dict.fromkeys((book.metric, book.accuracy_key, book.loss_key)):
            if key in metrics and math.isfinite(metrics[key]):
                self._writer.add_scalar(f"round/winner_{key}", metrics[key], index)
        for name, value in _flat_numbers(winner.config).items():
            self._writer.add_scalar(f"round/winner_{name}", value, index)
        self._writer.flush()

    def close(self) -> None:
        self._writer.close()


def _flat_numbers(config: dict[str, Any], prefix: str = "") -> dict[str, float]:
    out: dict[str, float] = {}
    for key, value in config.items():
        if isinstance(value, dict):
            out.update(_flat_numbers(value, f"{prefix}{key}/"))
        elif isinstance(value, (int, float)) and not isinstance(value, bool):
            out[f"{prefix}{key}"] = float(value)
    return out
