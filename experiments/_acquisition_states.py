"""Shared by the acquisition experiments (``acquisition_polish.py``, ``acquisition_boundary.py``):
the states of a Gamma search they compare their variants at, and their command line.

The search runs on the overhead benchmark's ``suggest`` objective ``Σ_j sin(6x_j)(1 − x_j)``
over the unit cube: ``observations`` uniform random points first, then one ``ask``/``tell`` per
state, so each seed visits ``asks`` states with ``observations`` to ``observations + asks − 1``
results.
"""

from __future__ import annotations

import argparse
from collections.abc import Callable, Iterator, Sequence
from typing import Any

import numpy as np
from _common import write_json

from tune_gamma.bo import BayesianOptimizer, SearchSpace


def objective(x: np.ndarray) -> float:
    """The overhead benchmark's ``suggest`` objective."""
    return float(np.sum(np.sin(6.0 * x) * (1.0 - x)))


def fed_optimizer(dims: int, observations: int, seed: int) -> BayesianOptimizer:
    """A Gamma ``BayesianOptimizer`` told ``observations`` uniform random points."""
    opt = BayesianOptimizer(SearchSpace.from_bounds([(0.0, 1.0)] * dims), seed=seed)
    rng = np.random.default_rng(seed)
    for _ in range(observations):
        x = rng.random(dims)
        opt.tell(x, objective(x))
    return opt


def search_states(dims: int, observations: int, asks: int, seed: int
                  ) -> Iterator[tuple[BayesianOptimizer, np.random.Generator]]:
    """The optimiser at each of ``asks`` states of one seed's search, with the experiment's own
    generator; the search takes its step after the caller is done with a state."""
    opt = fed_optimizer(dims, observations, seed)
    rng = np.random.default_rng([seed, dims])
    for _ in range(asks):
        yield opt, rng
        x = opt.ask()
        opt.tell(x, objective(x))


def main(description: str, run: Callable[[Sequence[int], int, int, Sequence[int]], dict[str, Any]],
         markdown: Callable[[dict[str, Any]], str], argv: Sequence[str] | None,
         seeds: int) -> dict[str, Any]:
    """The shared command line: ``--dims``, ``--observations``, ``--asks``, ``--seeds``,
    ``--quick`` and ``--json``; counts below 1 are refused by name."""
    parser = argparse.ArgumentParser(description=description)
    parser.add_argument("--dims", type=int, nargs="+", default=[1, 3])
    parser.add_argument("--observations", type=int, default=100)
    parser.add_argument("--asks", type=int, default=50, help="states per seed")
    parser.add_argument("--seeds", type=int, default=seeds, help="seeds 0..N-1")
    parser.add_argument("--quick", action="store_true", help="seconds, for the tests")
    parser.add_argument("--json", default=None, help="write the report here")
    args = parser.parse_args(argv)
    for name in ("observations", "asks", "seeds"):
        if getattr(args, name) < 1:
            parser.error(f"--{name} must be >= 1, got {getattr(args, name)}")
    if any(d < 1 for d in args.dims):
        parser.error(f"--dims must be >= 1, got {args.dims}")
    if args.quick:
        args.observations, args.asks, args.seeds = 12, 2, 1
    report = run(args.dims, args.observations, args.asks, range(args.seeds))
    print(markdown(report))
    write_json(args.json, report)
    return report
