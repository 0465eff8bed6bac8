"""Thesis Tables 4 and 5: grid vs Gaussian vs Gamma rounds without κ, with the earlier κ and
with the improved κ, after 1 and 2 epochs (sensitivity, specificity, accuracy, MCC in %).

Thesis: MNIST with 500 training images; "기존 시스템" (no κ, accuracy as the score), "κ 개선 전"
(earlier κ), "κ 개선 후" (improved κ); grid = 100 points, BO = 2 initial + 10 iterations.
Here: digits "500" setting by default, metrics of each round's winner on the validation split.

    python experiments/thesis_tables4_5.py --seeds 3 --json results/thesis_tables4_5.json
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _common import base_parser, markdown_table, mean_std, options_for, run_method, write_json

# (epoch, searcher) -> {kappa form: (Sens, Spec, Acc, MCC)} from thesis Tables 4 and 5 (MNIST).
THESIS: dict[tuple[int, str], dict[str, tuple[float, ...]]] = {
    (1, "grid"): {"none": (43.69, 93.94, 47.0, 35.61), "earlier": (46.98, 94.61, 52.0, 38.20),
                  "improved": (46.88, 94.20, 52.0, 37.03)},
    (1, "gaussian"): {"none": (42.78, 93.42, 42.0, 35.48),
                      "earlier": (43.05, 94.40, 50.0, 41.23),
                      "improved": (42.02, 94.47, 51.0, 40.12)},
    (1, "gamma"): {"none": (44.02, 94.00, 46.0, 38.90), "earlier": (47.46, 94.42, 50.0, 39.89),
                   "improved": (46.92, 94.01, 51.0, 39.81)},
    (2, "grid"): {"none": (90.04, 98.67, 88.0, 87.61), "earlier": (91.76, 99.02, 91.0, 89.50),
                  "improved": (90.56, 98.72, 90.0, 89.50)},
    (2, "gaussian"): {"none": (89.37, 98.55, 87.0, 86.86),
                      "earlier": (88.70, 98.70, 88.0, 85.92),
                      "improved": (88.70, 99.21, 88.0, 85.92)},
    (2, "gamma"): {"none": (89.38, 98.56, 87.0, 86.83), "earlier": (90.13, 98.80, 89.0, 87.36),
                   "improved": (90.13, 98.90, 91.0, 87.36)},
}
KAPPAS = ("none", "earlier", "improved")
SEARCHERS = ("grid", "gaussian", "gamma")
METRICS = ("sensitivity", "specificity", "accuracy", "mcc")


def main(argv: list[str] | None = None) -> dict[str, Any]:
    """Run the nine methods for ``--seeds`` seeds; print the tables; return the results."""
    p = base_parser(__doc__ or "", model="mlp6")
    p.add_argument("--epochs", type=int, default=2)
    p.add_argument("--grid-points", type=int, default=100)
    p.add_argument("--samples", type=int, default=12, help="BO trials per round (2 + 10)")
    args = p.parse_args(argv)
    if args.quick:
        args.grid_points, args.samples, args.epochs = 4, 3, 2
    from tune_gamma.run import load_splits

    runs: dict[str, list[dict[str, Any]]] = {}
    for seed in range(args.seeds):
        splits = None
        for kappa in KAPPAS:
            for searcher in SEARCHERS:
                samples = args.grid_points if searcher == "grid" else args.samples
                opts = options_for(args, searcher=searcher, kappa=kappa, rounds=args.epochs,
                                   samples=samples, seed=seed)
                splits = splits or load_splits(opts)
                runs.setdefault(f"{searcher}/{kappa}", []).append(run_method(opts, splits))
    rows = []
    for epoch in range(1, args.epochs + 1):
        for searcher in SEARCHERS:
            for kappa in KAPPAS:
                res = [r["epochs"][epoch - 1] for r in runs[f"{searcher}/{kappa}"]]
                ours = [mean_std([x[m] for x in res], 100.0) for m in METRICS]
                lr = mean_std([x["lr"] for x in res], digits=3)
                thesis = THESIS.get((epoch, searcher), {}).get(kappa)
                th = " / ".join(f"{v:.1f}" for v in thesis) if thesis else "-"
                rows.append([epoch, searcher, kappa, *ours, lr, th])
    header = ["epoch", "search", "κ", "Sens %", "Spec %", "Acc %", "MCC %", "lr chosen",
              "thesis (MNIST-500) Sens/Spec/Acc/MCC"]
    print(f"## Tables 4-5 on {args.data} ({args.setting}), {args.seeds} seed(s), "
          f"validation metrics of each round's winner")
    print(markdown_table(header, rows))
    test_rows = [[key, mean_std([r["test"]["accuracy"] for r in rs], 100.0),
                  mean_std([r["test"]["mcc"] for r in rs], 100.0),
                  mean_std([r["flat_rounds"] for r in rs], digits=1)]
                 for key, rs in runs.items()]
    print(f"\nFinal model on the TEST split after {args.epochs} epochs")
    print(markdown_table(["search/κ", "test Acc %", "test MCC %", "flat rounds"], test_rows))
    payload = {"args": vars(args), "runs": runs, "table": rows, "header": header}
    write_json(args.json, payload)
    return payload


if __name__ == "__main__":
    main()
