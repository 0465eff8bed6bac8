"""A PBT-style function trainable written without any tune_gamma helper, for the Ray tests.

Its "model" is one number ``w``; each epoch adds the learning rate to it and the score peaks at
``w = 1``. The checkpoint carries ``w`` and the lineage of trial ids, so a test can check where
every trial started from. Special learning rates make a trial raise or report a NaN loss.
"""

from __future__ import annotations

import json
import math
import os
import tempfile
import time

import ray
from ray import tune

RAISE_LR = 0.111
NAN_LR = 0.222


def pbt_style_trainable(config: dict) -> None:
    """Start from tune.get_checkpoint() when there is one; per epoch train, then report."""
    checkpoint = tune.get_checkpoint()
    w, lineage = 0.0, []
    if checkpoint is not None:
        with checkpoint.as_directory() as directory, \
                open(os.path.join(directory, "state.json")) as f:
            state = json.load(f)
        w, lineage = state["w"], state["lineage"]
    lr = config["lr"]
    marker_dir = config.get("marker_dir")
    if marker_dir:
        trial_id = tune.get_context().get_trial_id()
        node_id = ray.get_runtime_context().get_node_id()
        with open(os.path.join(marker_dir, "starts.log"), "a") as f:
            f.write(f"{trial_id} {node_id}\n")
    time.sleep(config.get("sleep", 0.0))
    if abs(lr - RAISE_LR) < 1e-9:
        raise RuntimeError("this trial fails on purpose")
    for _ in range(100):
        w += lr
        lineage = [*lineage, tune.get_context().get_trial_id()]
        loss = math.nan if abs(lr - NAN_LR) < 1e-9 else 0.1 + (w - 1.0) ** 2
        accuracy = max(0.0, 1.0 - abs(w - 1.0))
        with tempfile.TemporaryDirectory() as directory:
            with open(os.path.join(directory, "state.json"), "w") as f:
                json.dump({"w": w, "lineage": lineage}, f)
            tune.report({"kappa": -(w - 1.0) ** 2 if loss == loss else math.nan,
                         "accuracy": accuracy, "loss": loss},
                        checkpoint=tune.Checkpoint.from_directory(directory))


def read_state(checkpoint_path: str) -> dict:
    with open(os.path.join(checkpoint_path, "state.json")) as f:
        return json.load(f)
