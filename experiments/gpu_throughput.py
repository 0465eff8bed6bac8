"""Trials per GPU: epochs per second and GPU memory of a round search on an MNIST-sized set.

The data are *MNIST-style*, not MNIST (which cannot be downloaded here): scikit-learn's digits
upscaled to 28x28, randomly shifted and written as the four standard IDX files, 60,000 training
and 10,000 test images, so the run goes through the real MNIST loader (``--data mnist``). For each
packing (1, 2 and 4 trials per GPU: ``--gpus-per-trial`` 1, 0.5, 0.25) it runs a short round
search and records trial-epochs per second (every trial trains one epoch) and the peak GPU memory
that ``nvidia-smi`` reports while it runs.

    python experiments/gpu_throughput.py --json gpu.json            # on a machine with a GPU
    python experiments/gpu_throughput.py --quick --json out.json    # CPU, seconds (the test)
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _mnist_style import write_mnist_style


class GpuMemorySampler:
    """Peak of ``nvidia-smi``'s memory.used (MiB) while the block runs; None without a GPU."""

    def __init__(self, period_s: float = 0.2) -> None:
        self.period_s = period_s
        self.peak_mib: float | None = None
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _read(self) -> float | None:
        if shutil.which("nvidia-smi") is None:
            return None
        out = subprocess.run(["nvidia-smi", "--query-gpu=memory.used",
                              "--format=csv,noheader,nounits"],
                             capture_output=True, text=True, check=False).stdout
        values = [float(v) for v in out.split() if v.strip()]
        return sum(values) if values else None

    def _run(self) -> None:
        while not self._stop.is_set():
            value = self._read()
            if value is not None:
                self.peak_mib = max(self.peak_mib or 0.0, value)
            time.sleep(self.period_s)

    def __enter__(self) -> GpuMemorySampler:
        self._thread.start()
        return self

    def __exit__(self, *exc: Any) -> None:
        self._stop.set()
        self._thread.join()


def measure(data_dir: Path, model: str, trials_per_gpu: int, rounds: int, samples: int,
            use_gpu: bool, out: Path) -> dict[str, Any]:
    from tune_gamma.run import RunOptions, run_search

    options = RunOptions(data="mnist", data_dir=str(data_dir), model=model, rounds=rounds,
                         samples_per_round=samples, workers=trials_per_gpu,
                         gpus_per_trial=(1.0 / trials_per_gpu) if use_gpu else 0.0,
                         out=str(out), quiet=True, figures=False)
    idle = GpuMemorySampler()._read()
    start = time.perf_counter()
    with GpuMemorySampler() as sampler:
        summary = run_search(options)
    wall = time.perf_counter() - start
    return {"model": model, "trials_per_gpu": trials_per_gpu,
            "gpus_per_trial": options.gpus_per_trial, "epochs": summary["evaluations"],
            "wall_seconds": wall, "epochs_per_second": summary["evaluations"] / wall,
            "gpu_memory_peak_mib": sampler.peak_mib, "gpu_memory_idle_mib": idle,
            "test_accuracy": summary["test_accuracy"]}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--models", default="mlp6,keras-cnn")
    parser.add_argument("--packings", default="1,2,4", help="trials per GPU")
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--samples-per-round", type=int, default=8)
    parser.add_argument("--json", type=Path)
    parser.add_argument("--quick", action="store_true", help="tiny data, CPU, one packing")
    args = parser.parse_args(argv)

    import torch

    use_gpu = torch.cuda.is_available() and not args.quick
    models = ["mlp6"] if args.quick else args.models.split(",")
    packings = [1] if args.quick else [int(p) for p in args.packings.split(",")]
    rounds, samples = (1, 2) if args.quick else (args.rounds, args.samples_per_round)
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        sizes = (600, 100) if args.quick else (60_000, 10_000)
        data_dir = write_mnist_style(Path(tmp, "mnist"), *sizes)
        for model in models:
            for k in packings:
                row = measure(data_dir, model, k, rounds, samples, use_gpu,
                              Path(tmp, f"run-{model}-{k}"))
                rows.append(row)
                print(f"| {model} | {k} | {row['epochs']} | {row['wall_seconds']:.1f} | "
                      f"{row['epochs_per_second']:.2f} | {row['gpu_memory_peak_mib']} |",
                      flush=True)
    device = torch.cuda.get_device_name(0) if use_gpu else "cpu"
    print(f"\n{device}; {os.cpu_count()} CPUs; MNIST-style data (digits upscaled, 60k/10k)")
    print("| model | trials per GPU | epochs | wall s | epochs/s | peak GPU MiB |")
    print("|---|---|---|---|---|---|")
    for row in rows:
        print(f"| {row['model']} | {row['trials_per_gpu']} | {row['epochs']} | "
              f"{row['wall_seconds']:.1f} | {row['epochs_per_second']:.2f} | "
              f"{row['gpu_memory_peak_mib']} |")
    if args.json:
        payload = {"device": device, "cpus": os.cpu_count(), "python": platform.python_version(),
                   "torch": torch.__version__, "rows": rows}
        args.json.write_text(json.dumps(payload, indent=1))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
