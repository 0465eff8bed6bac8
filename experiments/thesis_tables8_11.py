"""Thesis Tables 8-11: learning time and chosen learning rate of grid search with 100-500
points against Gaussian and Gamma BO with 10 and 20 iterations (2 initial points each), after
1 epoch and after several epochs; κ (improved) is the score.

Thesis (MNIST-500): Table 8 (10 iterations, 1 epoch), Table 9 (10 iterations, 50 epochs: grid
88.8 % in 729.9 s vs Gamma 88.0 % in 29.4 s), Table 10 (20 iterations, 1 epoch), Table 11 (the
learning rates of Table 10). The thesis's Gaussian/Gamma rows per grid size are repeated runs;
here row i uses seed i. "Several epochs" is 3 on digits by default (``--epochs 50`` for the
thesis). Times here are in-process (no Ray), one CPU thread, on a loaded machine.

    python experiments/thesis_tables8_11.py --json results/thesis/tables8_11.json
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _common import base_parser, markdown_table, mean_std, options_for, run_method, write_json

# grid size -> (grid acc, grid s, gaussian acc, gaussian s, gamma acc, gamma s)
THESIS_T8 = {100: (47, 5.3, 42, 4.4, 52, 4.3), 200: (49, 10.4, 42, 4.1, 48, 4.2),
             300: (50, 16.6, 42, 4.7, 47, 4.7), 400: (52, 20.1, 37, 5.1, 41, 4.9),
             500: (49, 25.6, 39, 4.6, 51, 4.3)}
THESIS_T9 = {100: (87, 226.2, 87, 27.0, 90, 27.1), 200: (90, 443.5, 89, 27.2, 88, 26.9),
             300: (91, 679.2, 87, 26.8, 89, 27.0), 400: (89, 881.3, 86, 25.9, 89, 26.1),
             500: (87, 1419.3, 81, 39.2, 84, 39.8)}
THESIS_T10 = {100: (93, 215.9, 92, 26.1, 93, 27.7), 200: (92, 459.1, 88, 28.55, 91, 27.8),
              300: (94, 647.58, 91, 27, 92, 26.7), 400: (94, 899.84, 93, 28.1, 92, 27.9),
              500: (94, 1124.46, 93, 26.58, 94, 26.4)}
# Table 11: grid size -> (grid lr, gaussian lr, gamma lr) of Table 10.
THESIS_T11 = {100: (0.085, 0.307, 0.265), 200: (0.070, 0.075, 0.113),
              300: (0.156, 0.117, 0.178), 400: (0.096, 0.138, 0.077),
              500: (0.078, 0.186, 0.230)}


def main(argv: list[str] | None = None) -> dict[str, Any]:
    """Run every (grid size, iterations, epochs) cell once; print Tables 8-11 side by side."""
    p = base_parser(__doc__ or "", model="mlp6")
    p.add_argument("--grids", type=int, nargs="+", default=[100, 200, 300, 400, 500])
    p.add_argument("--iterations", type=int, nargs="+", default=[10, 20])
    p.add_argument("--epochs", type=int, nargs="+", default=[1, 3])
    args = p.parse_args(argv)
    if args.quick:
        args.grids, args.iterations, args.epochs = [3, 4], [1], [1, 2]
    from tune_gamma.run import load_splits

    cells: list[dict[str, Any]] = []
    splits = None
    for epochs in args.epochs:
        for row, grid in enumerate(args.grids):
            opts = options_for(args, searcher="grid", kappa="improved", rounds=epochs,
                               samples=grid, seed=0)
            splits = splits or load_splits(opts)
            res = run_method(opts, splits)
            cells.append({"epochs": epochs, "grid": grid, "method": "grid", "iterations": None,
                          "acc": res["test"]["accuracy"], "seconds": res["seconds"],
                          "lr": res["epochs"][-1]["lr"]})
            for it in args.iterations:
                for searcher in ("gaussian", "gamma"):
                    opts = options_for(args, searcher=searcher, kappa="improved",
                                       rounds=epochs, samples=2 + it, seed=row)
                    res = run_method(opts, splits)
                    cells.append({"epochs": epochs, "grid": grid, "method": searcher,
                                  "iterations": it, "acc": res["test"]["accuracy"],
                                  "seconds": res["seconds"], "lr": res["epochs"][-1]["lr"]})

    def cell(epochs: int, grid: int, method: str, it: int | None) -> dict[str, Any]:
        return next(c for c in cells if c["epochs"] == epochs and c["grid"] == grid
                    and c["method"] == method and c["iterations"] in (it, None))

    for epochs in args.epochs:
        for it in args.iterations:
            thesis = (THESIS_T10 if it == 20 else THESIS_T8) if epochs == 1 else (
                THESIS_T9 if it == 10 else {})
            label = {(1, 10): "Table 8", (1, 20): "Table 10"}.get((epochs, it), "Table 9-like")
            rows = []
            for grid in args.grids:
                g, ga, gm = (cell(epochs, grid, m, it) for m in ("grid", "gaussian", "gamma"))
                th = thesis.get(grid)
                rows.append([grid, f"{100 * g['acc']:.1f}", f"{g['seconds']:.1f}",
                             f"{g['lr']:.3f}", f"{100 * ga['acc']:.1f}",
                             f"{ga['seconds']:.1f}", f"{ga['lr']:.3f}",
                             f"{100 * gm['acc']:.1f}", f"{gm['seconds']:.1f}",
                             f"{gm['lr']:.3f}", " / ".join(f"{v:g}" for v in th) if th else "-"])
            rows.append(["Avg", *(mean_std([float(r[i]) for r in rows], digits=2)
                                  for i in range(1, 10)), ""])
            print(f"\n## {label}: {it} iterations, {epochs} epoch(s), {args.data} "
                  f"({args.setting}); test accuracy %, seconds, chosen lr (last round)")
            print(markdown_table(
                ["grid N", "grid acc", "grid s", "grid lr", "Gauss acc", "Gauss s",
                 "Gauss lr", "Gamma acc", "Gamma s", "Gamma lr",
                 "thesis (MNIST) grid acc/s, Gauss acc/s, Gamma acc/s"], rows))
    if 1 in args.epochs and 20 in args.iterations:
        print("\nTable 11 (thesis lrs of Table 10: grid / Gaussian / Gamma)")
        print(markdown_table(["grid N", "ours grid/Gauss/Gamma", "thesis grid/Gauss/Gamma"], [
            [g, " / ".join(f"{cell(1, g, m, 20)['lr']:.3f}" for m in ("grid", "gaussian",
                                                                    "gamma")),
             " / ".join(f"{v:.3f}" for v in THESIS_T11.get(g, ())) or "-"]
            for g in args.grids]))
    payload = {"args": vars(args), "cells": cells}
    write_json(args.json, payload)
    return payload


if __name__ == "__main__":
    main()
