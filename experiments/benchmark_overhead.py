"""What Ray Tune costs tune_gamma: the same rounds on Ray vs a plain loop in one process.

The limit is ``tune_gamma.local.run_rounds_in_process``: the same proposers, seeds, training
code and round ranking, sequential, no Ray, weights kept in memory. tune_gamma on Ray runs the
same evaluations (``GammaSearcher`` + ``RoundScheduler``, ``reuse_actors=True``, short trial
directory names, as ``tune_gamma.run`` calls it) with 1 and with 2 concurrent trials. Reported:
the wall-time ratio Ray / loop (``ray.init`` included when this script starts Ray; the loop
runs before and after the Ray runs of a regime and counts with the mean of its two walls, as
this machine's speed drifts by ~10 % over minutes) and where
Ray's extra time goes, measured, not modelled:

* ``ray.init``; Tune start (``tune.run`` until the first trial starts: the experiment, the
  first actor and its imports); the end (last trial's end until ``tune.run`` returns);
* per trial, from the trainable's own report: ``restore_time_s`` (data to device, start
  checkpoint read, model and optimizer build; the first trial of an actor also pays torch's
  first-use imports) and ``save_time_s`` (``torch.save`` of the checkpoint);
* ``suggest`` and ``on_trial_complete`` of a timing subclass of ``GammaSearcher`` (the
  proposer's ask and tell, which the loop pays too) and the ``RoundScheduler`` hooks, the
  per-round forced experiment snapshot apart;
* the rest (Tune's event loop, actor reuse, result transport, loggers, checkpoint upload);
* Tune's own actor events (new actors started, reused, requested and withdrawn), counted from
  its debug log.

Ablations (full run only; ``--ablations`` picks some): 2 workers with Tune's own actor
handling instead of ``RoundScheduler``'s (``2-tune-actors``); for the large regime, 1 worker
keeping every trial's checkpoint (``1-keep-all-checkpoints``; by default ``RoundScheduler``
deletes a checkpoint once it cannot win its round); for the small regime, 1 worker with Tune's
per-trial TensorBoard logger added back (``1-trial-tensorboard``; ``tune_gamma.run`` keeps only
the JSON and CSV ones, see ``tune_gamma.run.trial_loggers``).

Regimes (12 trials per round, 10 rounds: the CLI's defaults): ``large``, an epoch of over a
second on one CPU thread: the Keras example CNN (``keras-cnn``) on MNIST-sized 28x28 images
(MNIST-*style*: scikit-learn's digits upscaled, ``_mnist_style``; 600 train / 120 validation,
batch 50); ``small``, the thesis's MLP (``mlp6``: 6 x 100 ReLU) on digits "500", an epoch of
~0.01-0.05 s, where Ray's per-trial cost dominates. Training runs on one torch thread in the
loop and in every trial (``resources_per_trial={"cpu": 1}``). ``suggest`` p50 is measured
without Ray: ``GammaSearcher`` in whole-trial mode after N observations (1-D, 3-D), 50
proposals per timing, three timings per cell taking turns with the other cells'; the median
of the three p50s is reported with their range.

Run (takes ~18 minutes on 2 cores)::

    .venv/bin/python experiments/benchmark_overhead.py --json results/overhead.json

``--quick`` (about a minute: tiny rounds, ``suggest`` after 20 and 100 observations instead of
100 and 1,000) is what ``tests/experiments/test_benchmark_overhead.py`` runs.
"""

from __future__ import annotations

import argparse
import copy
import json
import logging
import math
import os
import platform
import statistics
import sys
import tempfile
import time
from collections.abc import Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import numpy as np

if __package__ in (None, ""):
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from _mnist_style import write_mnist_style
from _overhead_probes import (
    ActorEvents,
    TimedGammaSearcher,
    TimedRoundScheduler,
    Timeline,
    parallel_ceiling,
    timed_loggers,
)

from tune_gamma.json_safe import json_safe
from tune_gamma.local import run_rounds_in_process
from tune_gamma.run import tune_environment
from tune_gamma.training.data import DatasetSplits, load_dataset
from tune_gamma.training.memory import worker_env
from tune_gamma.training.trainable import TrainSpec, make_trainable
from tune_gamma.tune.searchers import GammaSearcher

LR_RANGE = (0.01, 0.1)  # tune_gamma.run's default log-uniform range, with momentum 0.9
SEARCH_SEED = 1
SUGGEST_OBSERVATIONS = (100, 1000)
QUICK_SUGGEST_OBSERVATIONS = (20, 100)  # 1,000 alone takes ~20-40 s to feed (GP refits)
SUGGEST_DIMS = (1, 3)
SUGGEST_REPEATS = 3  # timings of each suggest cell, interleaved over the run
CEILING_EPOCHS = 6  # per process, in the two-plain-processes ceiling of the large regime


@dataclass(frozen=True)
class Regime:
    """One workload: what a trial trains and how many rounds of how many trials.

    ``mnist_style``: ``(n_train, n_test)`` images of MNIST-style data (``_mnist_style``) to
    write to a temporary directory and train on; ``spec.data_dir`` is set to it at run time.
    """

    name: str
    spec: TrainSpec
    rounds: int
    samples: int
    mnist_style: tuple[int, int] | None = None


REGIMES = {
    # MNIST-sized 28x28 images, the thesis's batch 50: 720 training images (600 train, the last
    # 1/6 validation) make an epoch of the Keras CNN take ~1.2 s on one thread here.
    "large": Regime("large", TrainSpec(data="mnist", setting="full", model="keras-cnn",
                                       momentum=0.9, batch_size=50), rounds=10, samples=12,
                    mnist_style=(720, 200)),
    "small": Regime("small", TrainSpec(data="digits", setting="500", model="mlp6",
                                       momentum=0.9), rounds=10, samples=12),
}
QUICK = {"large": dict(rounds=1, samples=2, mnist_style=(120, 40)),
         "small": dict(rounds=2, samples=2)}


# -- instruments --------------------------------------------------------------------------------
# -- runs ---------------------------------------------------------------------------------------
def _space() -> dict[str, Any]:
    from ray import tune

    return {"lr": tune.loguniform(*LR_RANGE)}


def run_local(regime: Regime, splits: DatasetSplits) -> dict[str, Any]:
    """The in-process loop: wall seconds, its own split of them, and the schedule."""
    t0 = time.perf_counter()
    result = run_rounds_in_process(regime.spec, GammaSearcher(seed=SEARCH_SEED), _space(),
                                   regime.rounds, regime.samples, splits=splits)
    wall = time.perf_counter() - t0
    epochs = [t.epoch_s for t in result.trials]
    return {"wall_s": wall, "timing": result.timing, "epoch_s_median": statistics.median(epochs),
            "schedule": [c["lr"] if c else None for c in result.schedule]}


def run_ray(regime: Regime, splits: DatasetSplits, workers: int, storage: str,
            tensorboard: bool = False, plain_actors: bool = False,
            keep_checkpoints: bool = False, name: str = "") -> dict[str, Any]:
    """tune_gamma on Ray, instrumented, with the per-trial loggers ``tune_gamma.run`` uses
    (timed), plus Tune's per-trial TensorBoard logger if ``tensorboard``;
    ``plain_actors=True`` leaves actors to Tune alone; ``keep_checkpoints=True`` keeps every
    trial's checkpoint (``RoundScheduler(keep_losing_checkpoints=True)``)."""
    from ray import tune

    searcher = TimedGammaSearcher(seed=SEARCH_SEED, samples_per_round=regime.samples)
    scheduler = TimedRoundScheduler(rounds=regime.rounds, plain_actors=plain_actors,
                                    keep_losing_checkpoints=keep_checkpoints)
    timeline = Timeline()
    log_callbacks = timed_loggers(tensorboard)
    with tune_environment(), ActorEvents() as actors:
        t0 = time.perf_counter()
        tune.run(make_trainable(regime.spec, splits), config=_space(), search_alg=searcher,
                 scheduler=scheduler, metric="kappa", mode="max", num_samples=-1,
                 reuse_actors=True, max_concurrent_trials=workers,
                 resources_per_trial={"cpu": 1}, storage_path=storage,
                 name=f"{regime.name}-{workers}{name}", verbose=0,
                 raise_on_failed_trial=False, callbacks=[timeline, *log_callbacks],
                 trial_dirname_creator=lambda t: t.trial_id)
        wall = time.perf_counter() - t0
    results = timeline.results
    restore = [float(r.get("restore_time_s", 0.0)) for r in results]
    first = int(np.argmax(restore)) if restore else 0
    return {
        "wall_s": wall,
        "trials": len(results),
        "actor_events": actors.counts,
        "timeline": {"starts_s": [t - t0 for t in timeline.starts],
                     "ends_s": [t - t0 for t in timeline.ends]},
        "schedule": [c["lr"] if c else None for c in scheduler.schedule],
        "tune_start_s": timeline.starts[0] - t0 if timeline.starts else wall,
        "tune_end_s": t0 + wall - timeline.ends[-1] if timeline.ends else 0.0,
        "epoch_s": sum(float(r.get("epoch_time_s", 0.0)) for r in results),
        "epoch_s_median": statistics.median(float(r.get("epoch_time_s", 0.0)) for r in results),
        "restore_s": sum(restore),
        "restore_first_s": max(restore, default=0.0),
        "restore_median_s": statistics.median(r for i, r in enumerate(restore) if i != first)
        if len(restore) > 1 else 0.0,
        "save_s": sum(float(r.get("save_time_s", 0.0)) for r in results),
        "in_trial_s": sum(float(r.get("time_this_iter_s", 0.0)) for r in results),
        "suggest_s": sum(searcher.suggest_s),
        "suggest_idle_s": sum(searcher.idle_suggest_s),
        "suggest_calls": len(searcher.suggest_s) + len(searcher.idle_suggest_s),
        "searcher_complete_s": sum(searcher.complete_s),
        "scheduler_hooks_s": scheduler.hook_s - sum(scheduler.snapshot_s),
        "snapshot_s": sum(scheduler.snapshot_s),
        "loggers_s": {type(c).__name__.removeprefix("Timed"): c.spent_s for c in log_callbacks},
    }


def bracket(before: dict[str, Any], after: dict[str, Any]) -> dict[str, Any]:
    """Two runs of the same loop, before and after the Ray runs, as one: every time the mean
    of the two (the schedule is the same: the loop is deterministic); ``wall_s_runs`` keeps
    both walls."""
    return {**before,
            "wall_s": (before["wall_s"] + after["wall_s"]) / 2.0,
            "wall_s_runs": [before["wall_s"], after["wall_s"]],
            "epoch_s_median": (before["epoch_s_median"] + after["epoch_s_median"]) / 2.0,
            "timing": {key: (value + after["timing"][key]) / 2.0
                       for key, value in before["timing"].items()},
            "schedules_agree": same_schedule(before["schedule"], after["schedule"])}


def same_schedule(a: Sequence[float | None], b: Sequence[float | None]) -> bool:
    """Both runs picked the same learning rate (to 1e-9) in every round."""
    return len(a) == len(b) and all(
        (x is None and y is None) or (x is not None and y is not None and math.isclose(x, y,
                                                                                       rel_tol=1e-9))
        for x, y in zip(a, b, strict=False))


def ray_breakdown(ray_run: dict[str, Any], local_run: dict[str, Any],
                  ray_init_s: float) -> dict[str, float]:
    """Where a one-worker Ray run's extra seconds over the loop go (additive, sequential).

    Each entry is Ray's time for that part minus the loop's time for the same work (training,
    proposing, learning); ``other_s`` is what no instrument saw: Tune's event loop, actor
    reuse (reset and restart of the function), result and checkpoint transport and upload,
    waiting on Ray. ``loggers_s`` is Tune's per-trial JSON/CSV/TensorBoard loggers.
    """
    timing = local_run["timing"]
    parts = {
        "ray_init_s": ray_init_s,
        "tune_start_s": ray_run["tune_start_s"],
        "tune_end_s": ray_run["tune_end_s"],
        "actor_first_use_s": ray_run["restore_first_s"] - ray_run["restore_median_s"],
        "checkpoint_load_s": ray_run["restore_s"] - ray_run["restore_first_s"]
        + ray_run["restore_median_s"] - timing["start_s"],
        "checkpoint_save_s": ray_run["save_s"] - timing["save_s"],
        "suggest_s": ray_run["suggest_s"] + ray_run["suggest_idle_s"] - timing["ask_s"],
        "searcher_complete_s": ray_run["searcher_complete_s"] - timing["tell_s"],
        "scheduler_hooks_s": ray_run["scheduler_hooks_s"],
        "snapshot_s": ray_run["snapshot_s"],
        "loggers_s": sum(ray_run["loggers_s"].values()),
        "training_difference_s": ray_run["epoch_s"] - timing["epoch_s"],
    }
    total_extra = ray_init_s + ray_run["wall_s"] - local_run["wall_s"]
    parts["other_s"] = total_extra - sum(parts.values())
    parts["total_extra_s"] = total_extra
    parts["per_trial_other_s"] = parts["other_s"] / max(1, ray_run["trials"])
    return parts


# -- suggest latency ----------------------------------------------------------------------------
def _objective(config: dict[str, float]) -> float:
    x = np.array(list(config.values()))
    return float(np.sum(np.sin(6.0 * x) * (1.0 - x)))


def fed_searcher(observations: int, dims: int, seed: int = 0) -> GammaSearcher:
    """``GammaSearcher`` in whole-trial mode (no Ray runtime) after ``observations`` results
    in ``dims`` dimensions, told through ``add_evaluated_point`` (the proposer's ``tell``, as
    ``on_trial_complete`` does) so that reaching 1,000 costs no 1,000 proposals."""
    from ray import tune

    space = {f"x{i}": tune.uniform(0.0, 1.0) for i in range(dims)}
    searcher = GammaSearcher(space, metric="y", mode="max", seed=seed)
    rng = np.random.default_rng(seed)
    for _ in range(observations):
        config = {name: float(rng.random()) for name in space}
        searcher.add_evaluated_point(config, _objective(config))
    return searcher


def suggest_latency(searcher: GammaSearcher, samples: int) -> tuple[list[float], list[float]]:
    """Seconds of ``suggest`` and of the ``on_trial_complete`` that follows it, for ``samples``
    proposals made as a search makes them, each completed before the next, on a copy of
    ``searcher`` (so that the copy sees N to N + samples − 1 results and ``searcher`` none)."""
    searcher = copy.deepcopy(searcher)
    suggest, complete = [], []
    for i in range(samples):
        t0 = time.perf_counter()
        config = searcher.suggest(f"s{i}")
        t1 = time.perf_counter()
        searcher.on_trial_complete(f"s{i}", {"y": _objective(config)})
        suggest.append(t1 - t0)
        complete.append(time.perf_counter() - t1)
    return suggest, complete


def suggest_table(samples: int, observations: Sequence[int] = SUGGEST_OBSERVATIONS,
                  repeats: int = SUGGEST_REPEATS) -> dict[str, Any]:
    """p50 milliseconds of ``suggest`` and of ``on_trial_complete`` per (observations, dims).

    Each cell's ``samples`` proposals are timed ``repeats`` times, taking turns with the other
    cells' (this VM's speed changes from one moment to the next), each time from the same fed
    searcher: the table gives the median of the repeats' p50s, ``*_range`` the lowest and
    highest.
    """
    fed = {(n, d): fed_searcher(n, d) for n in observations for d in SUGGEST_DIMS}
    p50s: dict[tuple[int, int], list[tuple[float, float]]] = {cell: [] for cell in fed}
    for _ in range(repeats):
        for cell, searcher in fed.items():
            s, c = suggest_latency(searcher, samples)
            p50s[cell].append((1000.0 * statistics.median(s), 1000.0 * statistics.median(c)))
    out: dict[str, Any] = {"suggest": {}, "suggest_range": {}, "complete": {}}
    for (n, d), rows in p50s.items():
        key, dim = str(n), f"{d}d"
        suggest = [r[0] for r in rows]
        out["suggest"].setdefault(key, {})[dim] = statistics.median(suggest)
        out["suggest_range"].setdefault(key, {})[dim] = [min(suggest), max(suggest)]
        out["complete"].setdefault(key, {})[dim] = statistics.median(r[1] for r in rows)
    return out


# -- driver -------------------------------------------------------------------------------------
def start_ray(cpus: int) -> float:
    """``ray.init`` a fresh local instance unless Ray is up; the seconds it took (0 if up)."""
    import ray

    if ray.is_initialized():
        return 0.0
    os.environ.setdefault("RAY_AUTH_MODE", "disabled")
    t0 = time.perf_counter()
    ray.init(address="local", num_cpus=cpus, include_dashboard=False, log_to_driver=False,
             configure_logging=False, logging_level=logging.WARNING,
             runtime_env={"env_vars": worker_env()})  # as tune_gamma.run starts Ray
    return time.perf_counter() - t0


def warm_torch() -> float:
    """Pay torch's first-use costs in this process (the first optimizer imports
    ``torch._dynamo``), so the loop is timed warm; returns the seconds it took. A Ray actor
    pays the same once, in its first trial (``actor_first_use_s``)."""
    import torch

    t0 = time.perf_counter()
    model = torch.nn.Linear(4, 2)
    torch.optim.SGD(model.parameters(), lr=0.1).step()
    return time.perf_counter() - t0


def machine() -> dict[str, Any]:
    import ray
    import torch

    load = os.getloadavg() if hasattr(os, "getloadavg") else None
    return {"platform": platform.platform(), "processor": platform.processor(),
            "cpu_count": os.cpu_count(), "python": platform.python_version(),
            "torch": torch.__version__, "ray": ray.__version__,
            "load_average": list(load) if load else None}


def _scored(run: dict[str, Any], workers: int, local: dict[str, Any],
            ray_init_s: float) -> dict[str, Any]:
    """Add the ratios to a Ray run: ``ratio`` (with ``ray.init``), ``ratio_without_init`` and,
    with one worker, ``ratio_loop_epochs``: Ray's training seconds replaced by the loop's.
    The two train the very same epochs (same numbers), so that difference is the machine's
    load changing between the runs, not Ray; the breakdown and the schedule check too."""
    run["ratio"] = (ray_init_s + run["wall_s"]) / local["wall_s"]
    run["ratio_without_init"] = run["wall_s"] / local["wall_s"]
    if workers == 1:
        run["schedule_matches_local"] = same_schedule(run["schedule"], local["schedule"])
        run["breakdown"] = ray_breakdown(run, local, ray_init_s)
        run["ratio_loop_epochs"] = (ray_init_s + run["wall_s"] - run["breakdown"][
            "training_difference_s"]) / local["wall_s"]
    return run


ABLATIONS = ("2-tune-actors", "1-keep-all-checkpoints", "1-trial-tensorboard")


def _ablations(regime: str, chosen: Sequence[str] = ABLATIONS
               ) -> list[tuple[str, int, dict[str, Any]]]:
    """Extra Ray runs that price one choice each: (suffix, workers, ``run_ray`` options)."""
    runs: list[tuple[str, int, dict[str, Any]]] = [
        ("-tune-actors", 2, {"plain_actors": True})]
    if regime == "large":
        runs.append(("-keep-all-checkpoints", 1, {"keep_checkpoints": True}))
    if regime == "small":
        runs.append(("-trial-tensorboard", 1, {"tensorboard": True}))
    return [run for run in runs if f"{run[1]}{run[0]}" in chosen]


def run_benchmark(quick: bool = False, workers: Sequence[int] = (1, 2),
                  suggest_samples: int | None = None, cpus: int | None = None,
                  ablations: Sequence[str] = ABLATIONS,
                  only: Sequence[str] | None = None) -> dict[str, Any]:
    """Every measurement; the JSON-able report (see the module docstring). ``only`` limits
    the regimes run (the headline ratios of a regime left out are NaN); ``ablations`` names
    the extra runs (``ABLATIONS``: workers, then what changes)."""
    regimes = {name: replace(r, **QUICK[name]) if quick else r for name, r in REGIMES.items()
               if only is None or name in only}
    report: dict[str, Any] = {"quick": quick, "machine": machine()}
    ray_init_s = start_ray(cpus or os.cpu_count() or 1) if regimes else 0.0
    report["ray_init_s"] = ray_init_s
    report["torch_first_use_s"] = warm_torch()
    report["regimes"] = {}
    with tempfile.TemporaryDirectory(prefix="tg-overhead-") as storage:
        for name, regime in regimes.items():
            if regime.mnist_style is not None:
                data_dir = write_mnist_style(Path(storage, f"{name}-data"), *regime.mnist_style)
                regime = replace(regime, spec=replace(regime.spec, data_dir=str(data_dir)))
            splits = load_dataset(regime.spec.data, regime.spec.data_dir, regime.spec.setting,
                                  regime.spec.seed)
            before = run_local(regime, splits)
            entry: dict[str, Any] = {
                "model": regime.spec.model, "data": f"{regime.spec.data}/{regime.spec.setting}",
                "train_images": len(splits.train[1]), "val_images": len(splits.val[1]),
                "batch_size": regime.spec.batch_size,
                "rounds": regime.rounds, "samples_per_round": regime.samples,
                "ray": {}}
            runs = {str(k): run_ray(regime, splits, k, storage) for k in workers
                    if not (quick and name == "small" and k == 1)}
            # the machine's speed drifts by ~10 % over minutes (a shared VM): the loop runs
            # before and after the Ray runs and the ratios use the mean of the two
            local = bracket(before, run_local(regime, splits))
            entry["local"] = local
            for k, run in runs.items():
                entry["ray"][k] = _scored(run, int(k), local, ray_init_s)
            if name == "large" and not quick:
                entry["parallel_ceiling"] = parallel_ceiling(regime.spec, CEILING_EPOCHS)
            if ablations and not quick:
                for key, k, options in _ablations(name, ablations):
                    run = run_ray(regime, splits, k, storage, name=key[1:], **options)
                    entry["ray"][f"{k}{key}"] = _scored(run, k, local, ray_init_s)
            report["regimes"][name] = entry
    if suggest_samples != 0:
        table = suggest_table(suggest_samples or (3 if quick else 50),
                              QUICK_SUGGEST_OBSERVATIONS if quick else SUGGEST_OBSERVATIONS,
                              repeats=1 if quick else SUGGEST_REPEATS)
        report["suggest_p50_ms"] = table["suggest"]
        report["suggest_p50_ms_range"] = table["suggest_range"]
        report["on_trial_complete_p50_ms"] = table["complete"]
    else:
        report["suggest_p50_ms"] = report["on_trial_complete_p50_ms"] = {}
        report["suggest_p50_ms_range"] = {}
    empty: dict[str, Any] = {"ray": {}}
    large = report["regimes"].get("large", empty)["ray"]
    small = report["regimes"].get("small", empty)["ray"]
    report["ratio_1_worker"] = large["1"]["ratio"] if "1" in large else math.nan
    report["ratio_2_workers"] = large["2"]["ratio"] if "2" in large else math.nan
    report["small_epoch_ratio_1_worker"] = small["1"]["ratio"] if "1" in small else math.nan
    report["small_epoch_ratio_2_workers"] = small["2"]["ratio"] if "2" in small else math.nan
    report["ratio_1_worker_loop_epochs"] = (large["1"]["ratio_loop_epochs"] if "1" in large
                                            else math.nan)
    report["epoch_seconds"] = {n: e["local"]["epoch_s_median"]
                               for n, e in report["regimes"].items()}
    ceiling = report["regimes"].get("large", {}).get("parallel_ceiling")
    report["machine_two_process_speedup"] = ceiling["speedup"] if ceiling else math.nan
    report["breakdown"] = {n: e["ray"]["1"]["breakdown"]
                           for n, e in report["regimes"].items() if "1" in e["ray"]}
    return report


# -- output -------------------------------------------------------------------------------------
def markdown(report: dict[str, Any]) -> str:
    """The report as markdown tables."""
    lines = ["| regime | model, data | epoch s loop / Ray | trials | workers | loop s "
             "| Ray s (+init) | ratio | ratio, loop's epochs | new actors | same schedule |",
             "|---|---|---|---|---|---|---|---|---|---|---|"]
    for name, entry in report["regimes"].items():
        local = entry["local"]
        for k, run in entry["ray"].items():
            adjusted = run.get("ratio_loop_epochs")
            lines.append(
                f"| {name} | {entry['model']}, {entry['data']} | {local['epoch_s_median']:.3f} "
                f"/ {run.get('epoch_s_median', math.nan):.3f} | {run['trials']} | {k} "
                f"| {local['wall_s']:.1f} | {run['wall_s']:.1f} (+{report['ray_init_s']:.1f}) "
                f"| {run['ratio']:.2f} | {'' if adjusted is None else f'{adjusted:.2f}'} "
                f"| {run.get('actor_events', {}).get('started', '')} "
                f"| {run.get('schedule_matches_local', '')} |")
    speedup = report.get("machine_two_process_speedup")
    if isinstance(speedup, float) and math.isfinite(speedup):
        lines += ["", f"Two plain processes (no Ray) vs one on this machine, large regime's "
                  f"epochs: speed-up {speedup:.2f} (the bound for any 2-worker ratio: "
                  f"{1 / speedup:.2f})."]
    if report["breakdown"]:
        lines += ["", "Where Ray's extra time goes (1 worker, seconds; Ray minus loop for the "
                  "same work):", "", "| part | " + " | ".join(report["breakdown"]) + " |",
                  "|---|" + "---|" * len(report["breakdown"])]
        for key in next(iter(report["breakdown"].values())):
            cells = " | ".join(f"{b[key]:.3f}" for b in report["breakdown"].values())
            lines.append(f"| {key} | {cells} |")
    lines += ["", "| suggest p50 ms | " + " | ".join(f"{d}d" for d in SUGGEST_DIMS) + " |",
              "|---|" + "---|" * len(SUGGEST_DIMS)]
    ranges = report.get("suggest_p50_ms_range", {})
    for n, row in report["suggest_p50_ms"].items():
        cells = []
        for dim, value in row.items():
            low, high = ranges.get(n, {}).get(dim, (value, value))
            cells.append(f"{value:.1f}" + (f" ({low:.1f}–{high:.1f})" if high > low else ""))
        lines.append(f"| {n} observations | " + " | ".join(cells) + " |")
    for n, row in report.get("on_trial_complete_p50_ms", {}).items():
        lines.append(f"| (on_trial_complete at {n}) | "
                     + " | ".join(f"{v:.1f}" for v in row.values()) + " |")
    return "\n".join(lines)


def main(argv: Sequence[str] | None = None) -> dict[str, Any]:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="tiny rounds, for the test")
    parser.add_argument("--json", type=Path, help="write the report here")
    parser.add_argument("--cpus", type=int, default=None, help="ray.init(num_cpus=...)")
    parser.add_argument("--suggest-samples", type=int, default=None,
                        help="timed suggest calls per cell (0: skip the suggest table)")
    parser.add_argument("--regimes", nargs="+", choices=[*sorted(REGIMES), "none"],
                        default=None, help="run only these regimes (none: suggest only)")
    parser.add_argument("--workers", nargs="+", type=int, default=[1, 2])
    parser.add_argument("--ablations", nargs="*", choices=ABLATIONS, default=list(ABLATIONS),
                        help="extra runs that price one choice each (none: skip them)")
    parser.add_argument("--no-ablations", action="store_true",
                        help="same as --ablations with no names")
    args = parser.parse_args(argv)
    report = run_benchmark(quick=args.quick, suggest_samples=args.suggest_samples,
                           cpus=args.cpus, only=args.regimes, workers=args.workers,
                           ablations=[] if args.no_ablations else args.ablations)
    print(markdown(report))
    if args.json:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps(json_safe(report), indent=1))
    return report


if __name__ == "__main__":
    main()
