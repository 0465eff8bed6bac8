r"""Which weights a round hands on: the greedy winner against four alternatives.

Gamma rounds keep the trial whose κ is best after its one epoch. About half of those winners
sit at the bottom of the learning-rate range (``schedule_bias.py``). Greedy one-step choices
are known to favour small rates (Wu, Ren, Liao & Grosse, ICLR 2018). This script tests
whether handing on something else does better. Every rule runs the same Gamma proposals on
the same seeds, in one process:

* ``best``: the winner as tune_gamma picks it (κ, then accuracy, then loss). Its
  proposals and winners equal ``tune_gamma.local.run_rounds_in_process``'s; the tests check.
* ``larger_rate_1pct`` / ``larger_rate_3pct``: among trials within 1 % / 3 % of the best κ,
  the one with the largest rate. This counters the lean towards small rates.
* ``posterior_mean``: the trial whose GP posterior mean at its rate is highest. This discounts
  a lucky validation score.
* ``top2`` / ``top3``: the next round's trials start in turn from the 2 / 3 best trials.
  Each parent has its own proposer, so several lineages live on, as in PBT.

In every rule the last round keeps its best trial, and that model's test accuracy is the
result. The data split, network and range are the peer benchmark's (``peers.Task``).

Run (about 15 minutes here)::

    .venv/bin/python experiments/winner_rules.py --seeds 20 \
        --json experiments/results/winner_rules.json

``--quick`` (2 rounds of 3 trials, one seed) is what the tests run.
"""

from __future__ import annotations

import argparse
import copy
import math
import statistics
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

if __package__ in (None, ""):
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from _common import write_json
from peers import METRIC, MODE, Task, rank_key, with_epochs
from scipy import stats

RULES = ("best", "larger_rate_1pct", "larger_rate_3pct", "posterior_mean", "top2", "top3")
SAMPLES_PER_ROUND = 12


@dataclass
class Trial:
    """One trial of a round: where it came from, what it was given, what it scored."""

    parent: int
    point: np.ndarray
    config: dict[str, Any]
    metrics: dict[str, float] | None
    payload: dict[str, Any] | None = field(repr=False, default=None)

    @property
    def diverged(self) -> bool:
        m = self.metrics or {}
        return not all(math.isfinite(float(m.get(k, math.nan))) for k in (METRIC, "loss"))


def parents_count(rule: str) -> int:
    return int(rule[3:]) if rule.startswith("top") else 1


def choose(rule: str, trials: list[Trial], proposers: list[Any], last: bool) -> list[Trial]:
    """The trials whose weights start the next round (the best one alone in the last round)."""
    alive = sorted((t for t in trials if not t.diverged), key=lambda t: rank_key(t.metrics),
                   reverse=True)
    if not alive or last or rule == "best":
        return alive[:1]
    if rule.startswith("top"):
        return alive[:parents_count(rule)]
    if rule.startswith("larger_rate_"):
        delta = float(rule.removeprefix("larger_rate_").removesuffix("pct")) / 100.0
        best = float(alive[0].metrics[METRIC])
        near = [t for t in alive if float(t.metrics[METRIC]) >= best - delta * abs(best)]
        return [max(near, key=lambda t: t.config["lr"])]
    if rule == "posterior_mean":
        proposer = proposers[0]
        if not getattr(proposer, "has_model", False):
            return alive[:1]
        mean = proposer.predict(np.array([t.point for t in alive])).mean
        return [alive[int(np.argmax(mean))]]
    raise ValueError(f"unknown rule {rule!r}; choose from {RULES}")


def run_rule(rule: str, task: Task, seed: int, samples: int = SAMPLES_PER_ROUND
             ) -> dict[str, Any]:
    """Gamma rounds of ``task`` handing on weights by ``rule``; the final model's test accuracy."""
    import torch

    from tune_gamma.run import make_searcher
    from tune_gamma.training.loop import evaluate, to_device
    from tune_gamma.training.memory import retain_freed_memory
    from tune_gamma.training.models import build_model
    from tune_gamma.training.trainable import (
        device_split,
        start_trial,
        state_payload,
        train_epoch,
    )
    from tune_gamma.tune.domains import to_config
    from tune_gamma.tune.round_searcher import round_seed

    started = time.perf_counter()
    spec, splits = task.spec(seed), task.splits()
    searcher = make_searcher("gamma", samples_per_round=samples, seed=seed)
    searcher.set_search_properties(METRIC, MODE, {"lr": task.lr_domain()})
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    retain_freed_memory()
    cpu = torch.device("cpu")
    train, val = device_split(splits.train, cpu), device_split(splits.val, cpu)
    generator = torch.Generator()
    starts: list[dict[str, Any] | None] = [None]
    schedule: list[float | None] = []
    try:
        for r in range(task.epochs):
            # parent 0 draws round r's seed, as the product's one proposer per round does
            proposers = [searcher.make_proposer(searcher.space, round_seed(seed, r if p == 0
                                                                           else 1000 * p + r),
                                                [])
                         for p in range(len(starts))]
            trials = []
            for i in range(samples):
                p = i % len(starts)
                point = np.asarray(proposers[p].ask(pending=None), dtype=float)
                config = to_config(searcher.space, point, searcher.constants)
                payload = copy.deepcopy(starts[p]) if starts[p] is not None else None
                state = start_trial(spec, config, splits.input_shape, splits.num_classes, cpu,
                                    payload)
                metrics = train_epoch(spec, state, train, val, generator)
                trial = Trial(p, point, config, metrics,
                              copy.deepcopy(state_payload(state, config)))
                proposers[p].tell(point, searcher.signal(metrics))
                trials.append(trial)
            chosen = choose(rule, trials, proposers, last=r == task.epochs - 1)
            schedule.append(chosen[0].config["lr"] if chosen else None)
            if chosen:
                starts = [t.payload for t in chosen]
    finally:
        torch.set_num_threads(threads)
    torch.manual_seed(spec.seed)
    model = build_model(spec.model, splits.input_shape, splits.num_classes, spec.dropout)
    if starts[0] is not None:
        model.load_state_dict(starts[0]["model"])
    X, y = to_device(*splits.test, "cpu")
    accuracy = float(evaluate(model.eval(), X, y)["accuracy"])
    return {"seed": seed, "test_accuracy": accuracy, "schedule": schedule,
            "wall_seconds": time.perf_counter() - started}


def summarise(runs: dict[str, list[dict[str, Any]]]) -> dict[str, dict[str, Any]]:
    """Mean ± std per rule and the paired difference to ``best`` over the same seeds."""
    base = {r["seed"]: r["test_accuracy"] for r in runs.get("best", [])}
    out = {}
    for rule, rows in runs.items():
        acc = [r["test_accuracy"] for r in rows]
        row: dict[str, Any] = {"test_accuracy_mean": statistics.fmean(acc),
                               "test_accuracy_std": statistics.stdev(acc) if len(acc) > 1
                               else 0.0, "seeds": len(acc)}
        paired = [(r["test_accuracy"], base[r["seed"]]) for r in rows if r["seed"] in base]
        if rule != "best" and len(paired) > 1:
            a, b = np.array(paired).T
            row["delta_vs_best"] = float(np.mean(a - b))
            row["p_value"] = float(stats.ttest_rel(a, b).pvalue) if np.any(a != b) else 1.0
        out[rule] = row
    return out


def markdown(report: dict[str, Any]) -> str:
    settings = list(report["settings"])
    head = "| rule | " + " | ".join(f"{s}: test accuracy % | Δ vs best (p)" for s in settings)
    lines = [head + " |", "|---|" + "---|---|" * len(settings)]
    for rule in report["rules"]:
        cells = []
        for s in settings:
            row = report["settings"][s]["summary"][rule]
            cells.append(f"{100 * row['test_accuracy_mean']:.1f} ± "
                         f"{100 * row['test_accuracy_std']:.1f}")
            cells.append(f"{100 * row['delta_vs_best']:+.1f} (p = {row['p_value']:.2f})"
                         if "delta_vs_best" in row else "—")
        lines.append(f"| {rule} | " + " | ".join(cells) + " |")
    return "\n".join(lines)


def run_benchmark(settings: Sequence[str], rules: Sequence[str], seeds: Sequence[int],
                  task_of: Callable[[str], Task], samples: int,
                  progress: Callable[[str], None] = print) -> dict[str, Any]:
    report: dict[str, Any] = {"rules": list(rules), "samples_per_round": samples,
                              "seeds": list(seeds), "settings": {}}
    for setting in settings:
        task = task_of(setting)
        runs: dict[str, list[dict[str, Any]]] = {rule: [] for rule in rules}
        for seed in seeds:
            for rule in rules:
                row = run_rule(rule, task, seed, samples)
                runs[rule].append(row)
                progress(f"{setting} seed {seed} {rule}: {row['test_accuracy']:.4f} "
                         f"({row['wall_seconds']:.1f} s)")
        report["settings"][setting] = {
            "task": {"setting": task.setting, "network": task.network, "epochs": task.epochs,
                     "lr_range": [task.lr_min, task.lr_max],
                     "weight_decay": task.weight_decay},
            "summary": summarise(runs), "runs": runs}
    report["markdown"] = markdown(report)
    return report


def main(argv: Sequence[str] | None = None) -> dict[str, Any]:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seeds", type=int, default=20, help="seeds 0..N-1 (default 20)")
    parser.add_argument("--settings", default="500,full", help="comma-separated: 500, full")
    parser.add_argument("--rules", default=",".join(RULES), help="comma-separated rules")
    parser.add_argument("--quick", action="store_true", help="2 rounds of 3 trials, one seed")
    parser.add_argument("--json", default=None, help="write the results here")
    args = parser.parse_args(argv)
    settings = [s.strip() for s in args.settings.split(",") if s.strip()]
    rules = [r.strip() for r in args.rules.split(",") if r.strip()]
    for s in settings:
        if s not in ("500", "full"):
            parser.error(f"unknown setting {s!r}; choose from 500, full")
    for r in rules:
        if r not in RULES:
            parser.error(f"unknown rule {r!r}; choose from {', '.join(RULES)}")
    if args.seeds < 1:
        parser.error(f"--seeds must be >= 1, got {args.seeds}")
    if "best" not in rules:
        rules.insert(0, "best")  # the reference of every paired difference
    if args.quick:
        report = run_benchmark(settings[:1], rules, [0],
                               lambda s: with_epochs(Task(setting=s), 2), samples=3)
    else:
        report = run_benchmark(settings, rules, list(range(args.seeds)),
                               lambda s: Task(setting=s), SAMPLES_PER_ROUND)
    report["quick"] = bool(args.quick)
    print(report["markdown"])
    write_json(args.json, report)
    return report


if __name__ == "__main__":
    main()
