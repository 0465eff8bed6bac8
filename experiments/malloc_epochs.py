"""What ``retain_freed_memory`` buys a CPU epoch: epoch time and page faults, with and without.

Trains the overhead benchmark's large regime (the Keras CNN on 600 MNIST-style 28×28 images,
batch 50, one torch thread) in fresh processes, alternating glibc's default malloc settings
(``TUNE_GAMMA_RETAIN_FREED_MEMORY=0``) and the thresholds that tune_gamma's trials set
(``tune_gamma/training/memory.py``). Each process trains ``--epochs`` epochs after one untimed
epoch and reports the median epoch wall time and minor page faults per epoch. Processes, not
epochs, are the unit: glibc's thresholds move with a process's history, so one process can
fault far more than the next.

Run (about 3 minutes here)::

    .venv/bin/python experiments/malloc_epochs.py --json experiments/results/malloc_epochs.json

``--quick`` (tiny data, one process each) is what the tests run.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Sequence
from dataclasses import replace
from pathlib import Path
from typing import Any

if __package__ in (None, ""):
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from _common import write_json
from _mnist_style import write_mnist_style

from tune_gamma.training.memory import ENV_SWITCH
from tune_gamma.training.trainable import TrainSpec

SPEC = TrainSpec(data="mnist", setting="full", model="keras-cnn", momentum=0.9, batch_size=50)
IMAGES = (720, 200)  # the overhead benchmark's large regime: 600 train / 120 validation
QUICK_IMAGES = (120, 40)
MODES = {"glibc defaults": "0", "retain_freed_memory": "1"}


def worker(data_dir: str, epochs: int) -> dict[str, float]:
    """Train ``epochs`` timed epochs (after one untimed) on one thread in this process."""
    import torch

    from tune_gamma.training.data import load_dataset
    from tune_gamma.training.memory import retain_freed_memory
    from tune_gamma.training.trainable import device_split, start_trial, train_epoch

    torch.set_num_threads(1)
    applied = retain_freed_memory()
    spec = replace(SPEC, data_dir=data_dir)
    splits = load_dataset(spec.data, spec.data_dir, spec.setting, spec.seed)
    cpu = torch.device("cpu")
    train, val = device_split(splits.train, cpu), device_split(splits.val, cpu)
    state = start_trial(spec, {"lr": 0.03}, splits.input_shape, splits.num_classes, cpu)
    generator = torch.Generator()
    train_epoch(spec, state, train, val, generator)
    walls, faults = [], []
    for _ in range(epochs):
        before = resource.getrusage(resource.RUSAGE_SELF).ru_minflt
        t0 = time.perf_counter()
        train_epoch(spec, state, train, val, generator)
        walls.append(time.perf_counter() - t0)
        faults.append(resource.getrusage(resource.RUSAGE_SELF).ru_minflt - before)
    return {"applied": applied, "epoch_s": statistics.median(walls),
            "faults_per_epoch": statistics.median(faults)}


def run_process(data_dir: str, epochs: int, switch: str) -> dict[str, float]:
    """``worker`` in a fresh interpreter with ``TUNE_GAMMA_RETAIN_FREED_MEMORY=switch``."""
    out = subprocess.run(
        [sys.executable, __file__, "--worker", data_dir, "--epochs", str(epochs)],
        capture_output=True, text=True, check=True, env={**os.environ, ENV_SWITCH: switch})
    return json.loads(out.stdout.strip().splitlines()[-1])


def run_benchmark(runs: int, epochs: int, quick: bool = False) -> dict[str, Any]:
    with tempfile.TemporaryDirectory() as tmp:
        data_dir = str(write_mnist_style(Path(tmp), *(QUICK_IMAGES if quick else IMAGES)))
        processes: dict[str, list[dict[str, float]]] = {mode: [] for mode in MODES}
        for _ in range(runs):  # alternate, so drift in the machine's speed hits both alike
            for mode, switch in MODES.items():
                processes[mode].append(run_process(data_dir, epochs, switch))
    summary = {}
    for mode, rows in processes.items():
        walls = [r["epoch_s"] for r in rows]
        summary[mode] = {"epoch_s_median": statistics.median(walls), "epoch_s_min": min(walls),
                         "epoch_s_max": max(walls),
                         "faults_per_epoch_median": statistics.median(
                             r["faults_per_epoch"] for r in rows),
                         "applied": all(r["applied"] for r in rows)}
    base, kept = (summary[m]["epoch_s_median"] for m in MODES)
    return {"quick": quick, "runs": runs, "epochs_per_process": epochs,
            "machine": {"platform": platform.platform(), "cpu_count": os.cpu_count(),
                        "libc": " ".join(platform.libc_ver())},
            "summary": summary, "speedup": base / kept, "processes": processes}


def markdown(report: dict[str, Any]) -> str:
    lines = ["| malloc | epoch s, median over processes (min–max) | minor faults per epoch |",
             "|---|---|---|"]
    for mode, row in report["summary"].items():
        lines.append(f"| {mode} | {row['epoch_s_median']:.3f} ({row['epoch_s_min']:.3f}–"
                     f"{row['epoch_s_max']:.3f}) | {row['faults_per_epoch_median']:,.0f} |")
    lines.append(f"\nspeed-up of an epoch: {report['speedup']:.2f}x "
                 f"({report['runs']} processes each, {report['epochs_per_process']} epochs per "
                 "process)")
    return "\n".join(lines)


def main(argv: Sequence[str] | None = None) -> dict[str, Any]:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=6, help="processes per setting")
    parser.add_argument("--epochs", type=int, default=6, help="timed epochs per process")
    parser.add_argument("--quick", action="store_true", help="tiny data, one process each")
    parser.add_argument("--json", default=None, help="write the results here")
    parser.add_argument("--worker", default=None, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.runs < 1 or args.epochs < 1:
        parser.error(f"--runs and --epochs must be >= 1, got {args.runs}, {args.epochs}")
    if args.worker is not None:
        print(json.dumps(worker(args.worker, args.epochs)))
        return {}
    report = (run_benchmark(1, 2, quick=True) if args.quick
              else run_benchmark(args.runs, args.epochs))
    print(markdown(report))
    write_json(args.json, report)
    return report


if __name__ == "__main__":
    main()
