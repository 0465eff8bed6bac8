"""Per-epoch learning-rate search against Ray Tune's peers at equal budget, on digits.

Task: scikit-learn's digits, the thesis's 500-image setting (``--setting 500``: 400 train /
100 validation / 1,297 test) or the full split (``--setting full``: 60/20/20), 10 epochs of SGD.
Network (``--network``): ``demo`` is the demo's default (mlp6 without dropout, momentum 0.9, no
weight decay, batch 50, log-uniform lr in [0.01, 0.1], κ improved with λ = 0.5; see
``tune_gamma.run``); ``thesis`` is the thesis's ``mlp6-thesis`` (dropout 0.5) with weight decay
0.001, all else the same. The data split is FIXED (seed 0); ``--seeds N`` runs seeds 0..N-1 of
the weight initialisation, mini-batch order and search.

Budget is counted in epoch-evaluations (one model trained one epoch, scored on validation):

==============  ===========================================================  ==============
contender       what                                                          evaluations
==============  ===========================================================  ==============
gamma           rounds, GammaSearcher (Student-t EI), 12 per epoch            120
gaussian        rounds, GaussianSearcher (Gaussian EI), 12 per epoch          120
random          rounds, RandomSearcher, 12 per epoch                          120
grid100         rounds, GridSearcher(points=100): the thesis's baseline       1,000 (8×)
pbt             Ray PopulationBasedTraining, population 12, perturb / epoch  120
pb2             Ray PB2, population 12, perturb every epoch                   120
asha            Ray ASHA + random search, whole runs, stopped at 120 evals   ≈120 (counted)
optuna_tpe      Ray OptunaSearch (TPE), 12 whole constant-rate runs           120
fixed_0.01      one constant-rate run at 0.01 (no tuning)                     10
fixed_0.1       one constant-rate run at 0.1 (no tuning)                      10
==============  ===========================================================  ==============

Final model: rounds → the last round's winner; the others → the best trial by last validation κ
among those that trained every epoch (see ``experiments/peers.py``). It is scored on the TEST
split. ``--engine local`` runs the round contenders in one process without Ray
(``tune_gamma.local``: the same proposals and training code); the peers always run on Ray.
Wall times are per seed and labelled with their engine: an in-process time is not a Ray time.

Usage::

    python experiments/benchmark_peers.py --setting 500 --engine local \
        --json experiments/results/peers_500_demo.json --plot experiments/results/peers_500_demo.png
    python experiments/benchmark_peers.py --quick            # 1 seed, 2 epochs, tiny budgets
"""

from __future__ import annotations

import argparse
import json
import logging
import math
import os
import platform
import sys
import warnings
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import numpy as np

os.environ.setdefault("RAY_AUTH_MODE", "disabled")
os.environ.setdefault("TUNE_DISABLE_AUTO_CALLBACK_LOGGERS", "1")  # no per-trial CSV/JSON/TB
os.environ.setdefault("RAY_AIR_NEW_OUTPUT", "0")

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from peers import (
    DATA_SEED,
    Outcome,
    Task,
    run_asha,
    run_fixed,
    run_population,
    run_rounds_local,
    run_rounds_ray,
    run_tpe,
)

ROUND_CONTENDERS: tuple[str, ...] = ("gamma", "gaussian", "random", "grid100")
PEER_CONTENDERS: tuple[str, ...] = ("pbt", "pb2", "asha", "optuna_tpe")
FIXED_RATES: dict[str, float] = {"fixed_0.01": 0.01, "fixed_0.1": 0.1}
CONTENDERS: tuple[str, ...] = (*ROUND_CONTENDERS, *PEER_CONTENDERS, *FIXED_RATES)
QUICK_CONTENDERS: tuple[str, ...] = ("gamma", "random", "pbt", "fixed_0.1")
ENGINES: tuple[str, ...] = ("ray", "local")


@dataclass(frozen=True)
class Budget:
    """Evaluations per contender: per-round samples, grid size, population, whole runs."""

    epochs: int = 10
    samples_per_round: int = 12
    grid_points: int = 100
    population: int = 12
    asha_samples: int = 120
    asha_evaluations: int = 120
    tpe_samples: int = 12

    @classmethod
    def quick(cls) -> Budget:
        return cls(epochs=2, samples_per_round=3, grid_points=4, population=3, asha_samples=6,
                   asha_evaluations=6, tpe_samples=3)

    def nominal(self, name: str) -> int:
        """The evaluations the contender is meant to use (ASHA's depends on its stops)."""
        if name == "grid100":
            return self.grid_points * self.epochs
        if name in FIXED_RATES:
            return self.epochs
        if name == "pbt" or name == "pb2":
            return self.population * self.epochs
        if name == "optuna_tpe":
            return self.tpe_samples * self.epochs
        if name == "asha":
            return self.asha_evaluations
        return self.samples_per_round * self.epochs


# ------------------------------------------------------------------------------ one run


def run_one(name: str, task: Task, seed: int, budget: Budget, *, engine: str, workers: int,
            scratch: str | None) -> Outcome:
    """Run contender ``name`` once with ``seed``."""
    if name in ROUND_CONTENDERS:
        samples = budget.grid_points if name == "grid100" else budget.samples_per_round
        if engine == "local":
            return run_rounds_local(name, task, seed, samples_per_round=samples)
        return run_rounds_ray(name, task, seed, samples_per_round=samples, workers=workers,
                              scratch=scratch)
    if name in ("pbt", "pb2"):
        return run_population(name, task, seed, population=budget.population, workers=workers,
                              scratch=scratch)
    if name == "asha":
        return run_asha(task, seed, num_samples=budget.asha_samples, workers=workers,
                        evaluations=budget.asha_evaluations or None, scratch=scratch)
    if name == "optuna_tpe":
        return run_tpe(task, seed, num_samples=budget.tpe_samples, workers=workers,
                       scratch=scratch)
    if name in FIXED_RATES:
        return run_fixed(name, FIXED_RATES[name], task, seed, scratch=scratch)
    raise ValueError(f"unknown contender {name!r}; choose from {', '.join(CONTENDERS)}")


# ------------------------------------------------------------------------------ summary


def describe_machine() -> str:
    """CPU count, architecture, torch build, and the load average when asked."""
    import torch

    load = os.getloadavg()[0] if hasattr(os, "getloadavg") else math.nan
    gpu = "CUDA" if torch.cuda.is_available() else "no GPU"
    return (f"{os.cpu_count()} CPU cores, {platform.machine()} {platform.system()}, "
            f"torch {torch.__version__} ({gpu}), load average {load:.1f}")


def code_state() -> str:
    """The commit the package was run from, plus "+dirty" when tune_gamma/ had local edits."""
    import subprocess

    root = Path(__file__).resolve().parents[1]
    try:
        head = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=root, text=True,
                              capture_output=True, check=True).stdout.strip()
        dirty = subprocess.run(["git", "status", "--porcelain", "--", "tune_gamma"], cwd=root,
                               text=True, capture_output=True, check=True).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        return "unknown"
    return head + ("+dirty" if dirty else "")


def summarise(name: str, runs: Sequence[dict[str, Any]], *, task: Task, engine: str,
              machine: str) -> dict[str, Any]:
    """Aggregate one contender's per-seed runs (std: sample std, ddof=1; 0 for one seed)."""
    test = np.array([r["test_accuracy"] for r in runs], dtype=float)
    val = np.array([r["val_accuracy"] if r["val_accuracy"] is not None else math.nan
                    for r in runs], dtype=float)
    evaluations = np.array([r["evaluations"] for r in runs], dtype=float)
    wall = np.array([r["wall_seconds"] for r in runs], dtype=float)
    std = float(np.std(test, ddof=1)) if len(test) > 1 else 0.0
    # the commit each seed ran at (runs stored before per-run records: "unrecorded")
    codes = sorted({str(r.get("code", "unrecorded")) for r in runs})
    return {
        "test_accuracy_mean": float(np.mean(test)),
        "test_accuracy_std": std,
        "test_accuracy_min": float(np.min(test)),
        "test_accuracy_max": float(np.max(test)),
        "val_accuracy_mean": float(np.nanmean(val)) if np.isfinite(val).any() else None,
        "evaluations": float(np.mean(evaluations)),
        "evaluations_min": int(np.min(evaluations)),
        "evaluations_max": int(np.max(evaluations)),
        "wall_seconds": float(np.mean(wall)),
        "setting": task.setting,
        "network": task.network,
        "lr_range": [task.lr_min, task.lr_max],
        "weight_decay": task.weight_decay,
        "seeds": len(runs),
        "machine": machine,
        "engine": engine,
        "code": ", ".join(codes),
        "runs": list(runs),
    }


def paired_against(reference: dict[str, Any], other: dict[str, Any]) -> dict[str, Any] | None:
    """Paired difference other − reference in test accuracy over the seeds both ran, with the
    two-sided paired t-test p-value (None below 2 common seeds)."""
    ref = {r["seed"]: r["test_accuracy"] for r in reference["runs"]}
    pairs = [(r["test_accuracy"], ref[r["seed"]]) for r in other["runs"] if r["seed"] in ref]
    if len(pairs) < 2:
        return None
    diff = np.array([a - b for a, b in pairs])
    if np.allclose(diff, diff[0]):
        p = 1.0 if diff[0] == 0 else 0.0
    else:
        from scipy.stats import ttest_rel

        p = float(ttest_rel([a for a, _ in pairs], [b for _, b in pairs]).pvalue)
    return {"mean": float(diff.mean()), "std": float(diff.std(ddof=1)), "p": p,
            "n": len(pairs)}


def markdown_table(contenders: dict[str, dict[str, Any]], reference: str = "gamma") -> str:
    """The results as a markdown table (test accuracy mean ± std over seeds)."""
    ref = contenders.get(reference)
    head = ("| contender | engine | seeds | test acc (mean ± std) | min–max | val acc | "
            f"evals/seed | wall s/seed | Δ test vs {reference} (paired, p) |")
    lines = [head, "|" + "---|" * 9]
    for name, c in contenders.items():
        delta = paired_against(ref, c) if ref is not None and name != reference else None
        delta_text = (f"{100 * delta['mean']:+.1f} pt (p={delta['p']:.2g})"
                      if delta else "—")
        val = f"{100 * c['val_accuracy_mean']:.1f}" if c["val_accuracy_mean"] is not None \
            else "—"
        evals = (f"{c['evaluations']:.0f}" if c["evaluations_min"] == c["evaluations_max"]
                 else f"{c['evaluations']:.0f} ({c['evaluations_min']}–"
                      f"{c['evaluations_max']})")
        lines.append(
            f"| {name} | {c['engine']} | {c['seeds']} | {100 * c['test_accuracy_mean']:.1f} ± "
            f"{100 * c['test_accuracy_std']:.1f} | {100 * c['test_accuracy_min']:.1f}–"
            f"{100 * c['test_accuracy_max']:.1f} | {val} | {evals} | "
            f"{c['wall_seconds']:.1f} | {delta_text} |")
    return "\n".join(lines)


def plot(contenders: dict[str, dict[str, Any]], path: str, title: str) -> None:
    """Test accuracy (mean ± std over seeds) against evaluations used per seed, log x."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(7.5, 4.8), dpi=110)
    markers = {"ray": "o", "local": "s"}
    for i, (name, c) in enumerate(contenders.items()):
        color = plt.get_cmap("tab10")(i % 10)
        ax.errorbar(c["evaluations"], 100 * c["test_accuracy_mean"],
                    yerr=100 * c["test_accuracy_std"], fmt=markers.get(c["engine"], "o"),
                    color=color, capsize=3, label=f"{name} ({c['engine']})")
        ax.annotate(name, (c["evaluations"], 100 * c["test_accuracy_mean"]),
                    textcoords="offset points", xytext=(5, 4), fontsize=8, color=color)
    ax.set_xscale("log")
    ax.set_xlabel("epoch-evaluations used per seed (log)")
    ax.set_ylabel("test accuracy, % (mean ± std over seeds)")
    ax.set_title(title, fontsize=10)
    ax.grid(True, alpha=0.3)
    ax.legend(fontsize=7, loc="lower right")
    fig.tight_layout()
    Path(path).parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path)
    plt.close(fig)


# ------------------------------------------------------------------------------ main


def parse_args(argv: Sequence[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--setting", choices=("500", "full"), default="500")
    parser.add_argument("--network", choices=("demo", "thesis"), default="demo")
    parser.add_argument("--lr-min", type=float, default=None,
                        help="learning-rate range (default: the demo's, tune_gamma.run)")
    parser.add_argument("--lr-max", type=float, default=None)
    parser.add_argument("--weight-decay", type=float, default=None,
                        help="default: the demo's (tune_gamma.run); 0.001 for --network thesis")
    parser.add_argument("--seeds", type=int, default=10, help="seeds 0..N-1 (default 10)")
    parser.add_argument("--first-seed", type=int, default=0)
    parser.add_argument("--engine", choices=ENGINES, default="ray",
                        help="engine of the round contenders (peers always run on Ray)")
    parser.add_argument("--workers", type=int, default=2, help="concurrent Ray trials")
    parser.add_argument("--contenders", default=None,
                        help=f"comma-separated subset of {','.join(CONTENDERS)}")
    parser.add_argument("--asha-samples", type=int, default=None,
                        help="ASHA's maximum number of trials (default 120)")
    parser.add_argument("--asha-evaluations", type=int, default=None,
                        help="stop ASHA after this many evaluations (default 120; 0: no cap)")
    parser.add_argument("--ray-gamma", action="store_true",
                        help="also run gamma once on Ray (seed --first-seed) for its wall time")
    parser.add_argument("--quick", action="store_true",
                        help="1 seed, 2 epochs, tiny budgets, a few contenders (for tests)")
    parser.add_argument("--json", default=None, help="write the results here")
    parser.add_argument("--plot", default=None, help="write the PNG here")
    parser.add_argument("--resume", action="store_true",
                        help="keep the (contender, seed) runs already in --json")
    parser.add_argument("--scratch", default=None, help="directory for Ray's temporary files")
    parser.add_argument("--num-cpus", type=int, default=None,
                        help="CPUs of the Ray instance this script starts (default: all)")
    args = parser.parse_args(argv)
    names = (args.contenders.split(",") if args.contenders
             else list(QUICK_CONTENDERS if args.quick else CONTENDERS))
    unknown = [n for n in names if n not in CONTENDERS]
    if unknown:
        parser.error(f"unknown contenders {unknown}; choose from {', '.join(CONTENDERS)}")
    if args.seeds < 1 or args.workers < 1:
        parser.error("--seeds and --workers must be >= 1")
    args.names = names
    if args.quick:
        args.seeds = 1
    return args


def _start_ray(num_cpus: int | None) -> bool:
    """Reuse a running Ray (tests, notebooks); else start a local one, with the malloc setting
    ``tune_gamma.run`` gives its workers (``worker_env``). True if started here."""
    import ray

    from tune_gamma.training.memory import worker_env

    if ray.is_initialized():
        return False
    logging.getLogger("ray._private.authentication").setLevel(logging.ERROR)
    ray.init(address="local", num_cpus=num_cpus or os.cpu_count() or 1, include_dashboard=False,
             log_to_driver=False, logging_level=logging.WARNING, configure_logging=False,
             runtime_env={"env_vars": worker_env()})
    return True


def _quiet() -> None:
    warnings.filterwarnings("ignore")
    for name in ("ray.tune", "ray.train", "ray.tune.analysis.experiment_analysis",
                 "ray.tune.logger.logger", "tune_gamma", "optuna"):
        logging.getLogger(name).setLevel(logging.ERROR)
    try:
        import optuna

        optuna.logging.set_verbosity(optuna.logging.ERROR)
    except ImportError:
        pass


def _load_previous(path: str | None) -> dict[str, Any]:
    if path and Path(path).is_file():
        return json.loads(Path(path).read_text())
    return {}


def main(argv: Sequence[str] | None = None) -> dict[str, Any]:
    """Run the benchmark; print the markdown table; return the JSON payload."""
    args = parse_args(argv)
    budget = Budget.quick() if args.quick else Budget()
    for key in ("asha_samples", "asha_evaluations"):
        if getattr(args, key) is not None:
            budget = Budget(**{**asdict(budget), key: getattr(args, key)})
    task = Task(setting=args.setting, network=args.network, epochs=budget.epochs,
                lr_min=args.lr_min, lr_max=args.lr_max, weight_decay=args.weight_decay)
    seeds = list(range(args.first_seed, args.first_seed + args.seeds))
    code = code_state()  # the commit the runs of this process run at
    needs_ray = args.ray_gamma or any(
        n not in ROUND_CONTENDERS or args.engine == "ray" for n in args.names)
    started_ray = _start_ray(args.num_cpus) if needs_ray else False
    _quiet()
    previous = _load_previous(args.json) if args.resume else {}
    _check_same_task(previous, task)
    payload: dict[str, Any] = {
        "task": {**asdict(task), "model": task.model, "data_seed": DATA_SEED,
                 "optimizer": "sgd"},
        "budget": asdict(budget),
        "commands": [*previous.get("commands", []), "python experiments/benchmark_peers.py "
                     + " ".join(argv if argv is not None else sys.argv[1:])],
        "notes": ("Data split fixed (seed 0); seeds vary the weight initialisation, batch order "
                  "and search. std is the sample std over seeds (ddof=1). Wall seconds are per "
                  "seed on the engine named; the machine was shared with other jobs, see its "
                  "load average."),
        "contenders": {k: v for k, v in previous.get("contenders", {}).items()
                       if k not in args.names},
    }
    if "ray_reference" in previous:
        payload["ray_reference"] = previous["ray_reference"]
    try:
        for name in args.names:
            engine = args.engine if name in ROUND_CONTENDERS else "ray"
            old = previous.get("contenders", {}).get(name, {})
            # --resume keeps every earlier seed of the same engine and runs the missing ones
            runs = list(old.get("runs", [])) if old.get("engine") == engine else []
            done = {r["seed"] for r in runs}
            machine = old.get("machine") if runs else describe_machine()
            for seed in seeds:
                if seed in done:
                    continue
                outcome = run_one(name, task, seed, budget, engine=engine,
                                  workers=args.workers, scratch=args.scratch)
                runs.append(_run_record(outcome, code))
                print(f"{name:>11} seed {seed}: test {outcome.test_accuracy:.4f} val "
                      f"{outcome.val_accuracy} evals {outcome.evaluations} "
                      f"{outcome.wall_seconds:.1f}s ({engine})", flush=True)
                _store(payload, name, runs, task, engine, machine, budget, args.json)
            if runs:  # also when --resume found every seed done
                _store(payload, name, runs, task, engine, machine, budget, args.json)
        if args.ray_gamma:
            outcome = run_one("gamma", task, args.first_seed, budget, engine="ray",
                              workers=args.workers, scratch=args.scratch)
            payload["ray_reference"] = {"gamma": summarise(
                "gamma", [_run_record(outcome, code)], task=task, engine="ray",
                machine=describe_machine())}
            _write(payload, args.json)
    finally:
        if started_ray:
            import ray

            ray.shutdown()
    payload["contenders"] = _ordered(payload["contenders"])
    table = markdown_table(payload["contenders"])
    payload["markdown"] = table
    _write(payload, args.json)
    print(table)
    if "ray_reference" in payload:
        ref = payload["ray_reference"]["gamma"]
        print(f"\ngamma on Ray (seed {args.first_seed}): test {ref['test_accuracy_mean']:.4f}, "
              f"{ref['evaluations']:.0f} evaluations, {ref['wall_seconds']:.1f} s")
    if args.plot and payload["contenders"]:
        plot(payload["contenders"], args.plot,
             f"digits {task.setting}, {task.network} network, {task.epochs} epochs, "
             f"{len(seeds)} seeds")
    return payload


def _store(payload: dict[str, Any], name: str, runs: list[dict[str, Any]], task: Task,
           engine: str, machine: str, budget: Budget, path: str | None) -> None:
    """Summarise ``name``'s runs into the payload and write the JSON (after every seed)."""
    entry = summarise(name, sorted(runs, key=lambda r: r["seed"]), task=task, engine=engine,
                      machine=machine)
    entry["evaluations_nominal"] = budget.nominal(name)
    payload["contenders"][name] = entry
    payload["contenders"] = _ordered(payload["contenders"])
    _write(payload, path)


def _check_same_task(previous: dict[str, Any], task: Task) -> None:
    """Refuse to --resume into a JSON file written for another task (any field)."""
    old = previous.get("task")
    if not old:
        return
    for key, value in asdict(task).items():
        if old.get(key) != value:
            raise SystemExit(f"--resume: the JSON holds {key}={old.get(key)!r}, this run has "
                             f"{getattr(task, key)!r}; use another --json")


def _ordered(contenders: dict[str, Any]) -> dict[str, Any]:
    """Contenders in the table's order (``CONTENDERS``)."""
    return {name: contenders[name] for name in CONTENDERS if name in contenders}


def _run_record(outcome: Outcome, code: str) -> dict[str, Any]:
    """One seed's outcome as stored, with ``code``: the commit this process started at."""
    record = asdict(outcome)
    record.pop("contender")
    record["code"] = code
    return record


def _write(payload: dict[str, Any], path: str | None) -> None:
    if not path:
        return
    target = Path(path)
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = target.with_name(f".{target.name}.tmp")
    tmp.write_text(json.dumps(payload, indent=1))
    os.replace(tmp, target)


if __name__ == "__main__":
    main()
