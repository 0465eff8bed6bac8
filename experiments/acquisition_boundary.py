"""Boundary candidates: the acquisition maximiser with and without points on the box's boundary.

``BayesianOptimizer.ask`` maximises log EI over the unit cube with ``maximize``: Sobol
candidates, points near the incumbent, then a polish of the best two. Until this script's
commit the candidates were all interior points, and a maximum on a face, edge or corner of the
box (far from the data, where the predictive variance is largest) was found only when a polish
happened to run into it. Now ``maximize`` adds the ``2^d`` corners and, for ``d ≥ 2``, an
eighth as many Sobol points projected onto faces and edges (``boundary=True``). This script
runs both on the same states (the same generator state, the same local candidates), at the
states a Gamma search goes through after ``--observations`` random points of the overhead
benchmark's objective, and reports per dimension:

- the maximiser's wall time (p50; scoring the candidates and the polish);
- the shortfall in log EI of its best point from a reference maximisation (8,192 candidates,
  boundary points among them, 16 starts polished for 60 evaluations): the share of asks within
  0.01 (found the maximum) and within 1, and its 90th percentile;
- the share of asks whose best point lies on the boundary (a coordinate at 0 or 1).

It reads the optimiser's GP and incumbent (private attributes): an experiment that looks inside
``ask``. No timing is asserted anywhere; ``--quick`` runs in seconds for the tests. Command:
``python experiments/acquisition_boundary.py --json
experiments/results/acquisition_boundary.json`` (about a minute here).
"""

from __future__ import annotations

import statistics
import sys
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

if __package__ in (None, ""):
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
sys.path.insert(0, str(Path(__file__).resolve().parent))

import numpy as np
from _acquisition_states import main as run_command
from _acquisition_states import search_states

from tune_gamma.bo import BayesianOptimizer, maximize
from tune_gamma.bo._threads import single_threaded
from tune_gamma.bo.acquisition import LogExpectedImprovement
from tune_gamma.bo.optimizer import _LOCAL_FRACTION, _LOCAL_SD, _candidate_budget

REFERENCE = {"n_candidates": 8192, "n_polish": 16, "maxiter": 60, "local": 512}
VARIANTS = {"interior candidates only (before)": False, "with boundary candidates (now)": True}


def on_boundary(u: np.ndarray) -> bool:
    return bool(np.any((u <= 0.0) | (u >= 1.0)))


@single_threaded  # as ask() runs: one BLAS thread for the many small products
def compare_at(opt: BayesianOptimizer, rng: np.random.Generator) -> dict[str, dict[str, float]]:
    """Both maximisers, as ``ask`` calls them, from the same generator state at ``opt``."""
    gp = opt._gp
    acq = LogExpectedImprovement(gp, opt._incumbent(gp), opt.xi)
    d = opt.space.ndim
    n_cand, n_polish, maxiter = _candidate_budget(gp.n, d)
    incumbent = opt._U[int(np.nanargmax(opt._y))]
    reference_local = np.clip(
        incumbent + _LOCAL_SD * rng.standard_normal((REFERENCE["local"], d)), 0.0, 1.0)
    reference = maximize(acq, d, rng, value_and_grad=acq.value_and_grad,
                         n_candidates=REFERENCE["n_candidates"], n_polish=REFERENCE["n_polish"],
                         maxiter=REFERENCE["maxiter"], extra_candidates=reference_local).value
    local = np.clip(incumbent + _LOCAL_SD * rng.standard_normal((n_cand // _LOCAL_FRACTION, d)),
                    0.0, 1.0)
    state = rng.bit_generator.state
    out: dict[str, dict[str, float]] = {}
    for name, boundary in VARIANTS.items():
        run_rng = np.random.default_rng()
        run_rng.bit_generator.state = state
        t0 = time.perf_counter()
        result = maximize(acq, d, run_rng, value_and_grad=acq.value_and_grad,
                          n_candidates=n_cand, n_polish=n_polish, maxiter=maxiter,
                          extra_candidates=local, boundary=boundary)
        seconds = time.perf_counter() - t0
        out[name] = {"seconds": seconds, "best": result.value,
                     "on_boundary": float(on_boundary(result.x))}
    reference = max(reference, *(row["best"] for row in out.values()))
    for row in out.values():
        row["shortfall"] = reference - row["best"]
    return out


def summarise(rows: list[dict[str, float]]) -> dict[str, float]:
    """Medians and shares over the asks (the shortfall is bimodal, so shares, not a mean)."""
    shortfall = np.array([r["shortfall"] for r in rows])
    return {
        "maximize_ms_p50": 1000.0 * statistics.median(r["seconds"] for r in rows),
        "found_max_share": float(np.mean(shortfall < 0.01)),
        "within_1_share": float(np.mean(shortfall < 1.0)),
        "shortfall_p90": float(np.percentile(shortfall, 90)),
        "best_on_boundary_share": float(np.mean([r["on_boundary"] for r in rows])),
        "asks": len(rows),
    }


def run(dims_list: Sequence[int], observations: int, asks: int,
        seeds: Sequence[int]) -> dict[str, Any]:
    """Every (dims, seed): ``asks`` states of a search, both maximisers at each; summaries."""
    report: dict[str, Any] = {"observations": observations, "asks_per_seed": asks,
                              "seeds": list(seeds), "reference": REFERENCE, "dims": {}}
    for dims in dims_list:
        rows: dict[str, list[dict[str, float]]] = {name: [] for name in VARIANTS}
        for seed in seeds:
            for opt, rng in search_states(dims, observations, asks, seed):
                for name, row in compare_at(opt, rng).items():
                    rows[name].append(row)
        report["dims"][f"{dims}d"] = {name: summarise(r) for name, r in rows.items()}
    return report


def markdown(report: dict[str, Any]) -> str:
    lines = [f"Acquisition maximiser at {report['observations']} observations, "
             f"{report['asks_per_seed']} asks × seeds {report['seeds']}:", "",
             "| dims | candidates | maximize ms p50 | found the maximum (< 0.01) | within 1 | "
             "shortfall p90 | best point on the boundary |",
             "|---|---|---|---|---|---|---|"]
    for dims, by_name in report["dims"].items():
        for name, s in by_name.items():
            lines.append(f"| {dims} | {name} | {s['maximize_ms_p50']:.2f} | "
                         f"{100 * s['found_max_share']:.0f} % | "
                         f"{100 * s['within_1_share']:.0f} % | {s['shortfall_p90']:.2f} | "
                         f"{100 * s['best_on_boundary_share']:.0f} % |")
    return "\n".join(lines)


def main(argv: Sequence[str] | None = None) -> dict[str, Any]:
    return run_command(__doc__.splitlines()[0], run, markdown, argv, seeds=3)

if __name__ == "__main__":
    main()
