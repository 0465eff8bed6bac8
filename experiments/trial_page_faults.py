r"""Page faults of an epoch inside a Ray trial, with and without one malloc arena per worker.

Tune's function trainable runs each trial in a new thread. glibc gives such threads arenas of
their own, whose sub-heaps are unmapped whenever they empty, so each batch faults its pages in
again. ``tune_gamma.training.memory.worker_env`` starts Ray's workers with
``MALLOC_ARENA_MAX=1``, and every thread then uses the main heap.

This script runs Gamma rounds of the overhead benchmark's large regime: the Keras CNN on 600
MNIST-style images, one worker. It measures each epoch's wall time, the training thread's CPU
time and its minor page faults, inside the trial, in two fresh Ray instances:

* one started as ``tune_gamma.run`` starts it;
* one without ``worker_env``.

It then runs the same epochs in the in-process loop for reference. Every trial sets
``retain_freed_memory``, as tune_gamma's trainable does.

Run (about 3 minutes here)::

    .venv/bin/python experiments/trial_page_faults.py \
        --json experiments/results/trial_page_faults.json

``--quick`` (one round of two trials, in this process's Ray) is what the tests run.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator, Sequence
from dataclasses import replace
from pathlib import Path
from typing import Any

if __package__ in (None, ""):
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from _common import write_json
from _mnist_style import write_mnist_style

from tune_gamma.training.data import load_dataset
from tune_gamma.training.trainable import TrainSpec

SPEC = TrainSpec(data="mnist", setting="full", model="keras-cnn", momentum=0.9, batch_size=50)
IMAGES, QUICK_IMAGES = (720, 200), (120, 40)
SETTINGS = ("worker_env", "no worker_env")
PROBE_KEYS = ("probe_wall_s", "probe_thread_cpu_s", "probe_minor_faults")


@contextlib.contextmanager
def _probed(module: Any) -> Iterator[None]:
    """While the block runs, ``module.train_epoch`` adds the probe's numbers to each epoch's
    metrics; the original is put back afterwards (workers and this process go on unprobed)."""
    inner = module.train_epoch

    def train_epoch(*args: Any, **kwargs: Any) -> dict[str, float]:
        before = resource.getrusage(resource.RUSAGE_THREAD)
        start = time.perf_counter()
        metrics = inner(*args, **kwargs)
        after = resource.getrusage(resource.RUSAGE_THREAD)
        metrics["probe_wall_s"] = time.perf_counter() - start
        metrics["probe_thread_cpu_s"] = (after.ru_utime - before.ru_utime
                                         + after.ru_stime - before.ru_stime)
        metrics["probe_minor_faults"] = float(after.ru_minflt - before.ru_minflt)
        return metrics

    module.train_epoch = train_epoch
    try:
        yield
    finally:
        module.train_epoch = inner


def probed_trainable(config: dict[str, Any], spec: TrainSpec, data: Any) -> None:
    """tune_gamma's trainable with its epochs probed (the wrapping happens in the worker)."""
    from tune_gamma.training import trainable

    with _probed(trainable):
        trainable._train_classifier(config, spec, data)


def _summary(rows: list[dict[str, Any]]) -> dict[str, float]:
    return {f"{key}_median": statistics.median(float(r[key]) for r in rows)
            for key in PROBE_KEYS} | {"epochs": len(rows)}


def run_ray(spec: TrainSpec, splits: Any, rounds: int, samples: int) -> dict[str, float]:
    """Gamma rounds on the running Ray, one trial at a time; the probed epochs' medians."""
    from ray import tune

    from tune_gamma.run import tune_environment
    from tune_gamma.tune.scheduler import RoundScheduler
    from tune_gamma.tune.searchers import GammaSearcher

    if __name__ != "__main__":  # loaded by path (the tests): workers cannot import this file
        from ray import cloudpickle

        cloudpickle.register_pickle_by_value(sys.modules[__name__])
    with tempfile.TemporaryDirectory(prefix="tg-faults-") as storage, tune_environment():
        analysis = tune.run(
            tune.with_parameters(probed_trainable, spec=spec, data=splits),
            config={"lr": tune.loguniform(0.01, 0.1)},
            search_alg=GammaSearcher(seed=1, samples_per_round=samples),
            scheduler=RoundScheduler(rounds=rounds), metric="kappa", mode="max",
            num_samples=-1, reuse_actors=True, max_concurrent_trials=1,
            resources_per_trial={"cpu": 1}, storage_path=storage, verbose=0,
            raise_on_failed_trial=False)
    rows = [t.last_result for t in analysis.trials if t.last_result
            and "probe_minor_faults" in t.last_result]
    return _summary(rows)


def run_loop(spec: TrainSpec, splits: Any, rounds: int, samples: int) -> dict[str, float]:
    """The same rounds in this process (``tune_gamma.local``), epochs probed alike."""
    from ray import tune

    from tune_gamma import local
    from tune_gamma.tune.searchers import GammaSearcher

    rows: list[dict[str, Any]] = []
    with _probed(local):
        local.run_rounds_in_process(spec, GammaSearcher(seed=1, samples_per_round=samples),
                                    {"lr": tune.loguniform(0.01, 0.1)}, rounds, samples,
                                    splits=splits,
                                    on_trial=lambda t: rows.append(t.metrics or {}))
    return _summary([r for r in rows if "probe_minor_faults" in r])


def run_setting(setting: str, data_dir: str, rounds: int, samples: int) -> dict[str, float]:
    """One fresh Ray instance, with or without ``worker_env``; the Ray trials' medians."""
    import ray

    from tune_gamma.training.memory import worker_env

    env = worker_env() if setting == "worker_env" else {}
    ray.init(address="local", num_cpus=2, include_dashboard=False, log_to_driver=False,
             runtime_env={"env_vars": env})
    try:
        spec = replace(SPEC, data_dir=data_dir)
        splits = load_dataset(spec.data, spec.data_dir, spec.setting, spec.seed)
        return run_ray(spec, splits, rounds, samples) | {"worker_env": env}
    finally:
        ray.shutdown()


def _in_subprocess(setting: str, data_dir: str, rounds: int, samples: int) -> dict[str, Any]:
    out = subprocess.run([sys.executable, __file__, "--setting", setting, "--data-dir", data_dir,
                          "--rounds", str(rounds), "--samples", str(samples)],
                         capture_output=True, text=True, check=True)
    return json.loads(out.stdout.strip().splitlines()[-1])


def run_benchmark(rounds: int, samples: int, quick: bool = False) -> dict[str, Any]:
    with tempfile.TemporaryDirectory() as tmp:
        data_dir = str(write_mnist_style(Path(tmp), *(QUICK_IMAGES if quick else IMAGES)))
        spec = replace(SPEC, data_dir=data_dir)
        splits = load_dataset(spec.data, spec.data_dir, spec.setting, spec.seed)
        if quick:  # the test session's Ray: no fresh instances
            results = {"ray (this process's instance)": run_ray(spec, splits, rounds, samples)}
        else:
            results = {f"ray, {s}": _in_subprocess(s, data_dir, rounds, samples)
                       for s in SETTINGS}
        results["in-process loop"] = run_loop(spec, splits, rounds, samples)
    return {"quick": quick, "rounds": rounds, "samples_per_round": samples, "results": results}


def markdown(report: dict[str, Any]) -> str:
    lines = ["| where | epoch s | thread CPU s | minor page faults per epoch | epochs |",
             "|---|---|---|---|---|"]
    for name, row in report["results"].items():
        lines.append(f"| {name} | {row['probe_wall_s_median']:.3f} | "
                     f"{row['probe_thread_cpu_s_median']:.3f} | "
                     f"{row['probe_minor_faults_median']:,.0f} | {row['epochs']} |")
    return "\n".join(lines)


def main(argv: Sequence[str] | None = None) -> dict[str, Any]:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--samples", type=int, default=12, help="trials per round")
    parser.add_argument("--quick", action="store_true", help="one round of two trials")
    parser.add_argument("--json", default=None, help="write the results here")
    parser.add_argument("--setting", choices=SETTINGS, help=argparse.SUPPRESS)
    parser.add_argument("--data-dir", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.rounds < 1 or args.samples < 1:
        parser.error(f"--rounds and --samples must be >= 1, got {args.rounds}, {args.samples}")
    if args.setting:  # one fresh Ray instance, in a subprocess of the main run
        print(json.dumps(run_setting(args.setting, args.data_dir, args.rounds, args.samples)))
        return {}
    report = run_benchmark(1, 2, quick=True) if args.quick else run_benchmark(args.rounds,
                                                                             args.samples)
    print(markdown(report))
    write_json(args.json, report)
    return report


if __name__ == "__main__":
    main()
