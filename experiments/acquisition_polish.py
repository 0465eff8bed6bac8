"""The acquisition polish: projected BFGS per start against the L-BFGS-B polish it replaced.

``BayesianOptimizer.ask`` scores Sobol candidates, then polishes the best two. Until commit
1e4af1f the polish was one SciPy L-BFGS-B run on the SUM of the starts' log EI (one shared line
search, 10 iterations); now it is ``tune_gamma.bo.polish`` (each start its own projected BFGS,
one vectorised evaluation per round, at most 10 evaluations). This script puts both on the same
starts, at the states a Gamma search goes through after ``--observations`` random points of
the overhead benchmark's objective (``Σ_j sin(6x_j)(1 − x_j)`` on the unit cube), and reports:

- the polish's wall time (p50) and its evaluations of the acquisition and gradient;
- the shortfall in log EI of the best point found (polished or not) from a reference
  maximisation with 8,192 candidates and 16 starts polished for 60 evaluations: 0 means the
  ask found the acquisition's maximum, 1 means an EI e times smaller;
- per ask, whether the new polish's best point beats or trails the old one's.

It reads the optimiser's GP and incumbent (private attributes): an experiment that looks
inside ``ask``. No timing is asserted anywhere; ``--quick`` runs in seconds for the tests.
Command: ``python experiments/acquisition_polish.py --json
experiments/results/acquisition_polish.json`` (about 15 seconds here).
"""

from __future__ import annotations

import statistics
import sys
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

if __package__ in (None, ""):
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
sys.path.insert(0, str(Path(__file__).resolve().parent))

import numpy as np
from _acquisition_states import main as run_command
from _acquisition_states import search_states
from scipy import optimize

from tune_gamma.bo import BayesianOptimizer, maximize
from tune_gamma.bo._threads import single_threaded
from tune_gamma.bo.acquisition import LogExpectedImprovement
from tune_gamma.bo.optimizer import _candidate_budget
from tune_gamma.bo.polish import POLISH_FTOL, ValueAndGrad, polish

POLISH_BUDGET = 10  # L-BFGS-B iterations before, evaluations now (ask's budget)
REFERENCE = {"n_candidates": 8192, "n_polish": 16, "maxiter": 60, "local": 512}


def coupled_lbfgsb(value_and_grad: ValueAndGrad, starts: np.ndarray) -> tuple[np.ndarray, int]:
    """The replaced polish: one L-BFGS-B on ``Σ_i f(x_i)`` over the stacked starts."""
    k, d = starts.shape
    calls = 0

    def negative_sum(flat: np.ndarray) -> tuple[float, np.ndarray]:
        nonlocal calls
        calls += 1
        values, grads = value_and_grad(flat.reshape(k, d))
        finite = np.isfinite(values)
        grads = np.where(finite[:, None], grads, 0.0)
        return -float(np.sum(np.where(finite, values, -1e300))), -grads.reshape(-1)

    res = optimize.minimize(negative_sum, starts.reshape(-1), jac=True, method="L-BFGS-B",
                            bounds=[(0.0, 1.0)] * (k * d),
                            options={"maxiter": POLISH_BUDGET, "ftol": POLISH_FTOL})
    return np.clip(res.x.reshape(k, d), 0.0, 1.0), calls


def projected_bfgs(value_and_grad: ValueAndGrad, starts: np.ndarray) -> tuple[np.ndarray, int]:
    """The polish ``ask`` uses now."""
    result = polish(value_and_grad, starts, max_evaluations=POLISH_BUDGET)
    return result.x, result.evaluations


POLISHERS: dict[str, Callable[[ValueAndGrad, np.ndarray], tuple[np.ndarray, int]]] = {
    "coupled L-BFGS-B (before 1e4af1f)": coupled_lbfgsb,
    "projected BFGS per start (now)": projected_bfgs,
}


@single_threaded  # as ask() runs: one BLAS thread for the many small products
def compare_at(opt: BayesianOptimizer, rng: np.random.Generator) -> dict[str, dict[str, float]]:
    """Both polishes from the same two starts at ``opt``'s current state."""
    gp = opt._gp
    acq = LogExpectedImprovement(gp, opt._incumbent(gp), opt.xi)
    d = opt.space.ndim
    n_cand, n_polish, _ = _candidate_budget(gp.n, d)
    incumbent = opt._U[int(np.nanargmax(opt._y))]
    local = np.clip(incumbent + 0.05 * rng.standard_normal((n_cand // 8, d)), 0.0, 1.0)
    scored = maximize(acq, d, rng, n_candidates=n_cand, n_polish=0, extra_candidates=local)
    starts = scored.candidates[:n_polish]
    reference_local = np.clip(incumbent + 0.05 * rng.standard_normal((REFERENCE["local"], d)),
                              0.0, 1.0)
    reference = maximize(acq, d, rng, value_and_grad=acq.value_and_grad,
                         n_candidates=REFERENCE["n_candidates"], n_polish=REFERENCE["n_polish"],
                         maxiter=REFERENCE["maxiter"], extra_candidates=reference_local).value
    out: dict[str, dict[str, float]] = {}
    for name, run_polish in POLISHERS.items():
        t0 = time.perf_counter()
        polished, evaluations = run_polish(acq.value_and_grad, starts)
        seconds = time.perf_counter() - t0
        best = max(scored.value, float(np.max(acq(polished))))
        out[name] = {"seconds": seconds, "evaluations": evaluations, "best": best}
    reference = max(reference, *(row["best"] for row in out.values()))
    for row in out.values():
        row["shortfall"] = reference - row["best"]
        row["gain_over_start"] = row["best"] - scored.value
    return out


def run(dims_list: Sequence[int], observations: int, asks: int,
        seeds: Sequence[int]) -> dict[str, Any]:
    """Every (dims, seed): ``asks`` states of a search, both polishes at each; summaries."""
    report: dict[str, Any] = {"observations": observations, "asks_per_seed": asks,
                              "seeds": list(seeds), "polish_budget": POLISH_BUDGET,
                              "reference": REFERENCE, "dims": {}}
    for dims in dims_list:
        rows: dict[str, list[dict[str, float]]] = {name: [] for name in POLISHERS}
        for seed in seeds:
            for opt, rng in search_states(dims, observations, asks, seed):
                for name, row in compare_at(opt, rng).items():
                    rows[name].append(row)
        first = rows[next(iter(POLISHERS))]
        report["dims"][f"{dims}d"] = {name: summarise(r, first) for name, r in rows.items()}
    return report


def summarise(rows: list[dict[str, float]], baseline: list[dict[str, float]]
              ) -> dict[str, float]:
    """Medians and shares over the asks; ``better``/``worse``: the share of asks where this
    polish's best point beats / trails the baseline's (the first polish) by over 0.01 in log
    EI. (The shortfall is bimodal, 0 or several units, so its median says little.)"""
    shortfall = np.array([r["shortfall"] for r in rows])
    paired = np.array([r["best"] - b["best"] for r, b in zip(rows, baseline, strict=True)])
    return {
        "polish_ms_p50": 1000.0 * statistics.median(r["seconds"] for r in rows),
        "evaluations_mean": float(np.mean([r["evaluations"] for r in rows])),
        "gain_over_start_p50": float(np.median([r["gain_over_start"] for r in rows])),
        "shortfall_p90": float(np.percentile(shortfall, 90)),
        "found_max_share": float(np.mean(shortfall < 0.01)),
        "within_1_share": float(np.mean(shortfall < 1.0)),
        "better_than_baseline_share": float(np.mean(paired > 0.01)),
        "worse_than_baseline_share": float(np.mean(paired < -0.01)),
        "asks": len(rows),
    }


def markdown(report: dict[str, Any]) -> str:
    lines = [f"Acquisition polish at {report['observations']} observations, "
             f"{report['asks_per_seed']} asks × seeds {report['seeds']}:", "",
             "| dims | polish | ms p50 | evaluations | log-EI gain over the best start p50 | "
             "found the maximum (< 0.01) | within 1 | shortfall p90 | better / worse than "
             "the first row |",
             "|---|---|---|---|---|---|---|---|---|"]
    for dims, by_name in report["dims"].items():
        for name, s in by_name.items():
            lines.append(f"| {dims} | {name} | {s['polish_ms_p50']:.2f} | "
                         f"{s['evaluations_mean']:.1f} | {s['gain_over_start_p50']:.3f} | "
                         f"{100 * s['found_max_share']:.0f} % | "
                         f"{100 * s['within_1_share']:.0f} % | {s['shortfall_p90']:.2f} | "
                         f"{100 * s['better_than_baseline_share']:.0f} % / "
                         f"{100 * s['worse_than_baseline_share']:.0f} % |")
    return "\n".join(lines)


def main(argv: Sequence[str] | None = None) -> dict[str, Any]:
    return run_command(__doc__.splitlines()[0], run, markdown, argv, seeds=2)

if __name__ == "__main__":
    main()
