"""Shared helpers for the thesis-reproduction scripts (``experiments/thesis_*.py``).

The searches here run in one process through ``tune_gamma.local.run_rounds_in_process`` (the
same proposers, seeds, trainable code and round ranking as the Ray path, without Ray), which is
what makes grids of 100-500 one-epoch trials affordable on a loaded two-core machine. Per-epoch
rows are the metrics of that round's winner on the VALIDATION split (the thesis's "검증 데이터"
is what it reports); the final model is also scored on the held-out TEST split.

Two learning-rate spaces: ``thesis`` = linear (1e-4, 0.5], SGD momentum 0, weight decay 1e-3,
``mlp6-thesis`` (dropout 0.5) -- the thesis's setting; ``default`` = tune_gamma's tuned defaults
(log [0.02, 0.1], momentum 0.9, see ``tune_gamma.run.DEFAULTS_NOTE``).
"""

from __future__ import annotations

import argparse
import json
import math
import statistics
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from tune_gamma.json_safe import json_safe
from tune_gamma.run import RunOptions, make_searcher, param_space, train_spec

SPACES: dict[str, dict[str, Any]] = {
    "thesis": {"lr_min": 1e-4, "lr_max": 0.5, "lr_scale": "linear", "momentum": 0.0,
               "weight_decay": 1e-3},
    "default": {"lr_min": 0.02, "lr_max": 0.1, "lr_scale": "log", "momentum": 0.9,
                "weight_decay": 1e-3},
}
ROW_KEYS: tuple[str, ...] = ("sensitivity", "specificity", "accuracy", "mcc", "loss")


def base_parser(description: str, *, model: str = "mlp6-thesis", setting: str = "500",
                space: str = "thesis") -> argparse.ArgumentParser:
    """The flags every thesis script shares."""
    p = argparse.ArgumentParser(description=description)
    p.add_argument("--data", default="digits", choices=("digits", "mnist", "cifar10"))
    p.add_argument("--data-dir", default=None, help="where the MNIST/CIFAR-10 files are")
    p.add_argument("--setting", default=setting, choices=("full", "500"))
    p.add_argument("--model", default=model, choices=("mlp6", "mlp6-thesis", "keras-cnn"))
    p.add_argument("--space", default=space, choices=tuple(SPACES))
    p.add_argument("--seeds", type=int, default=1, help="seeds 0..N-1 (mean ± std)")
    p.add_argument("--lam", type=float, default=0.5)
    p.add_argument("--quick", action="store_true", help="a seconds-long smoke run")
    p.add_argument("--json", default=None, help="write the results here")
    p.add_argument("--png", default=None, help="write the figure here (where there is one)")
    return p


def options_for(args: argparse.Namespace, *, searcher: str, kappa: str, rounds: int,
                samples: int, seed: int) -> RunOptions:
    """``RunOptions`` for one method from the shared flags."""
    return RunOptions(data=args.data, data_dir=args.data_dir, setting=args.setting,
                      model=args.model, searcher=searcher, rounds=rounds,
                      samples_per_round=samples, kappa=kappa, lam=args.lam, seed=seed,
                      quiet=True, figures=False, **SPACES[args.space])


def run_method(options: RunOptions, splits: Any = None) -> dict[str, Any]:
    """One round search in process; per-round winner metrics, test metrics, seconds.

    Returns ``{"epochs": [{"epoch", "lr", "kappa", "sensitivity", ...} per round],
    "test": {...}, "seconds": float, "evaluations": int, "flat_rounds": int}``.
    """
    import torch

    from tune_gamma.local import run_rounds_in_process
    from tune_gamma.run import load_splits
    from tune_gamma.training.loop import evaluate, to_device

    spec = train_spec(options)
    if splits is None:
        splits = load_splits(options)
    searcher = make_searcher(options.searcher, samples_per_round=options.resolved_samples,
                             seed=options.seed)
    started = time.perf_counter()
    result = run_rounds_in_process(spec, searcher, param_space(options), options.rounds,
                                   options.resolved_samples, splits=splits)
    seconds = time.perf_counter() - started
    epochs = []
    for i, record in enumerate(result.rounds, start=1):
        metrics = (record.get("winner_metrics") or {}) if record.get("winner") else {}
        row = {"epoch": i, "lr": (record.get("winner_config") or {}).get("lr"),
               "kappa": metrics.get("kappa"), "flat": bool(record.get("flat"))}
        row.update({k: metrics.get(k) for k in ROW_KEYS})
        epochs.append(row)
    model = result.final_model(spec, splits)
    X, y = to_device(*splits.test, torch.device("cpu"))
    test = evaluate(model.cpu(), X, y)
    return {"epochs": epochs, "test": {k: test.get(k) for k in ROW_KEYS},
            "seconds": seconds, "evaluations": len(result.trials),
            "flat_rounds": sum(bool(r.get("flat")) for r in result.rounds)}


def mean_std(values: Sequence[float | None], scale: float = 1.0, digits: int = 2) -> str:
    """"m ± s" (just "m" for one value; "-" when none is finite)."""
    xs = [float(v) * scale for v in values if v is not None and math.isfinite(float(v))]
    if not xs:
        return "-"
    if len(xs) == 1:
        return f"{xs[0]:.{digits}f}"
    return f"{statistics.mean(xs):.{digits}f} ± {statistics.stdev(xs):.{digits}f}"


def markdown_table(header: Sequence[str], rows: Sequence[Sequence[Any]]) -> str:
    """A GitHub markdown table."""
    lines = ["| " + " | ".join(map(str, header)) + " |",
             "|" + "|".join("---" for _ in header) + "|"]
    lines += ["| " + " | ".join(map(str, row)) + " |" for row in rows]
    return "\n".join(lines)


def write_json(path: str | None, payload: dict[str, Any]) -> None:
    """Strict JSON (NaN as null) to ``path`` when given."""
    if path:
        Path(path).parent.mkdir(parents=True, exist_ok=True)
        Path(path).write_text(json.dumps(json_safe(payload), indent=1, allow_nan=False))
        print(f"wrote {path}")
