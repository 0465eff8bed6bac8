"""Thesis Figures 14 and 15: validation accuracy, loss and κ over a 100-point learning-rate grid
in (0, 0.5], after 1 epoch and after several epochs, every rate trained from the same initial
weights with a plain torch loop (no Ray, no search).

Thesis (MNIST): many local maxima in accuracy; best accuracy 90 % at lr ≈ 0.13 (Fig. 15), no
high κ beyond lr 0.2; Fig. 14 shows 1 and 50 epochs. Here: digits "500" by default and 5 epochs
for "several" (``--epochs 50`` for the thesis's count).

    python experiments/thesis_fig14_15.py --json results/thesis/fig14_15.json \
        --png results/thesis/fig14_15.png
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

import numpy as np
from _common import SPACES, base_parser, markdown_table, write_json

THESIS_NOTE = "thesis (MNIST): best accuracy 90 % at lr 0.13; no high κ beyond lr 0.2"


def lr_curves(args: Any, lrs: np.ndarray, epochs: int, seed: int) -> dict[str, list[float]]:
    """Accuracy, loss and both κ forms after 1 and after ``epochs`` epochs for every lr."""
    import torch

    from tune_gamma.objective import kappa
    from tune_gamma.training.data import load_dataset
    from tune_gamma.training.loop import evaluate, make_optimizer, to_device, train_one_epoch
    from tune_gamma.training.models import build_model

    splits = load_dataset(args.data, args.data_dir, args.setting, seed)
    train, val = to_device(*splits.train, "cpu"), to_device(*splits.val, "cpu")
    torch.manual_seed(seed)
    init = build_model(args.model, splits.input_shape, splits.num_classes).state_dict()
    space = SPACES[args.space]
    out: dict[str, list[float]] = {}
    for lr in lrs:
        model = build_model(args.model, splits.input_shape, splits.num_classes)
        model.load_state_dict(init)
        opt = make_optimizer("sgd", model.parameters(), float(lr), space["momentum"],
                             space["weight_decay"])
        gen = torch.Generator().manual_seed(seed)
        for epoch in range(1, epochs + 1):
            train_one_epoch(model, opt, *train, 50, gen)
            if epoch in (1, epochs):
                m = evaluate(model, *val)
                acc, loss = float(m["accuracy"]), float(m["loss"])
                ok = np.isfinite(loss)
                tag = "1" if epoch == 1 else "n"
                for key, value in (
                        ("accuracy", acc), ("loss", loss if ok else float("nan")),
                        ("kappa_improved", kappa(acc, loss, args.lam, "improved") if ok else 0.0),
                        ("kappa_earlier", kappa(acc, loss, args.lam, "earlier") if ok else 0.0)):
                    out.setdefault(f"{key}_{tag}", []).append(float(value))
                    if epochs == 1:
                        out.setdefault(f"{key}_n", []).append(float(value))
    return out


def local_maxima(values: list[float]) -> int:
    """Strict interior local maxima of a curve (ignoring NaN)."""
    v = np.nan_to_num(np.asarray(values), nan=-np.inf)
    return int(np.sum((v[1:-1] > v[:-2]) & (v[1:-1] > v[2:])))


def main(argv: list[str] | None = None) -> dict[str, Any]:
    """Sweep the grid, print the best rates and local-maxima counts, draw the figure."""
    p = base_parser(__doc__ or "", model="mlp6")
    p.add_argument("--points", type=int, default=100)
    p.add_argument("--epochs", type=int, default=5, help="the 'several epochs' panel")
    args = p.parse_args(argv)
    if args.quick:
        args.points, args.epochs = 6, 2
    lrs = np.linspace(0.5 / args.points, 0.5, args.points)
    curves = lr_curves(args, lrs, args.epochs, 0)
    rows = []
    for tag, label in (("1", "1 epoch"), ("n", f"{args.epochs} epochs")):
        for key in ("accuracy", "kappa_improved", "kappa_earlier"):
            ys = np.nan_to_num(np.asarray(curves[f"{key}_{tag}"]), nan=-np.inf)
            best = int(np.argmax(ys))
            rows.append([label, key, f"{lrs[best]:.3f}", f"{ys[best]:.3f}",
                         local_maxima(curves[f"{key}_{tag}"]),
                         f"{np.mean(np.asarray(curves[f'kappa_improved_{tag}']) == 0):.0%}"])
    print(f"## Fig. 14/15 on {args.data} ({args.setting}), {args.points} rates in (0, 0.5]")
    print(markdown_table(["after", "curve", "best lr", "best value", "local maxima",
                          "κ=0 share (improved)"], rows))
    print(THESIS_NOTE)
    if args.png:
        import matplotlib
        matplotlib.use("Agg")
        import matplotlib.pyplot as plt

        fig, axes = plt.subplots(3, 2, figsize=(10, 8), sharex=True)
        for col, (tag, label) in enumerate((("1", "1 epoch"), ("n", f"{args.epochs} epochs"))):
            axes[0, col].plot(lrs, curves[f"accuracy_{tag}"], ".-")
            axes[0, col].set_title(f"{args.data}: {label}")
            axes[1, col].plot(lrs, curves[f"loss_{tag}"], ".-", color="C1")
            axes[2, col].plot(lrs, curves[f"kappa_improved_{tag}"], ".-", color="C2",
                              label="κ improved")
            axes[2, col].plot(lrs, curves[f"kappa_earlier_{tag}"], ".-", color="C3",
                              label="κ earlier")
            axes[2, col].legend()
            axes[2, col].set_xlabel("learning rate")
        for row, name in enumerate(("val accuracy", "val loss", "κ")):
            axes[row, 0].set_ylabel(name)
        fig.tight_layout()
        Path(args.png).parent.mkdir(parents=True, exist_ok=True)
        fig.savefig(args.png, dpi=100)
        plt.close(fig)
        print(f"wrote {args.png}")
    payload = {"args": vars(args), "lrs": lrs.tolist(), "curves": curves, "table": rows}
    write_json(args.json, payload)
    return payload


if __name__ == "__main__":
    main()
