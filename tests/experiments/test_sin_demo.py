"""The 1-D benchmark script runs end to end in --quick mode and writes what it promises."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import matplotlib.image
import numpy as np
import pytest

from tests.experiments import load_script

FUNCTIONS = {"sin", "sin_noisy", "forrester", "gramacy_lee"}
VARIANTS = {"gamma", "gaussian", "random", "optuna_gp", "optuna_tpe"}


@pytest.fixture(scope="module")
def sin_demo():
    module = load_script("sin_demo")
    yield module
    sys.modules.pop("sin_demo", None)


def test_quick_run_writes_json_and_plots(sin_demo, tmp_path: Path, capsys) -> None:
    out = tmp_path / "summary.json"
    plots = tmp_path / "plots"
    sin_demo.main(["--quick", "--json", str(out), "--plots", str(plots)])
    table = json.loads(out.read_text())
    assert set(table) == FUNCTIONS
    for row in table.values():
        assert set(row) == VARIANTS
        for variant, summary in row.items():
            assert set(summary) == {"median_evals", "mean_evals", "success_rate"}
            if variant == "optuna_gp":  # skipped by --quick (seconds per run)
                assert set(summary.values()) == {None}
                continue
            assert 1 <= summary["median_evals"] <= 13
            assert 1 <= summary["mean_evals"] <= 13
            assert 0.0 <= summary["success_rate"] <= 1.0
    pngs = sorted(plots.glob("*.png"))
    assert {p.name for p in pngs} >= {"sin_gamma.png", "sin_gaussian.png"}
    for png in pngs:
        image = matplotlib.image.imread(png)
        assert image.ndim == 3 and image.shape[0] > 200 and image.shape[1] > 200
        assert np.ptp(image) > 0  # not a blank canvas
    printed = capsys.readouterr().out
    assert "| sin |" in printed and "thesis" in printed


def test_figure_of_merit_counts_evaluations_to_the_band(sin_demo) -> None:
    problem = sin_demo.PROBLEMS["sin"]
    x_opt, f_opt, f_min = sin_demo.EXTREMES["sin"]
    assert abs(x_opt - (-0.3594)) < 1e-3 and abs(f_opt - 0.50036) < 1e-4
    far, near = 1.9, x_opt + 0.01
    assert sin_demo.evals_to_band(problem, [far, far, near], f_opt, f_min) == 3
    assert sin_demo.evals_to_band(problem, [far] * 12, f_opt, f_min) == 13
    assert sin_demo.evals_to_band(problem, [x_opt], f_opt, f_min) == 1


def test_optima_are_the_known_ones(sin_demo) -> None:
    # Forrester's minimum is at x ≈ 0.7572 with f ≈ −6.0207; Gramacy & Lee's at x ≈ 0.5486
    # with f ≈ −0.869 (we maximise the negatives)
    x, f, _ = sin_demo.EXTREMES["forrester"]
    assert abs(x - 0.7572) < 1e-3 and abs(f - 6.0207) < 1e-3
    x, f, _ = sin_demo.EXTREMES["gramacy_lee"]
    assert abs(x - 0.5486) < 1e-3 and abs(f - 0.8690) < 1e-3
