"""Summary assembly, tables, surrogate refits and figures from synthetic records (no Ray)."""

from __future__ import annotations

import json
import math

import numpy as np
import pytest
from matplotlib.image import imread

from tune_gamma.bo.space import Dimension, SearchSpace
from tune_gamma.report import (
    ReportError,
    format_report,
    load_run,
    observations,
    refit_surrogate,
    render,
    write_figures,
)
from tune_gamma.run import (
    RunOptions,
    build_summary,
    final_model_source,
    make_searcher,
    round_seed,
    write_json,
)


def _trial(tid: str, r: int, lr: float, acc: float | None, loss: float | None,
           status: str = "done") -> dict:
    metrics = None
    if status == "done":
        kappa = 0.0 if loss is None or acc <= loss else acc**2 - math.log(loss) / 0.5
        metrics = {"accuracy": acc, "loss": loss, "kappa": kappa, "lr": lr}
    return {"trial_id": tid, "round": r, "config": {"lr": lr}, "status": status,
            "metrics": metrics, "checkpoint": f"/ckpt/{tid}" if status == "done" else None}


def _book() -> dict:
    """Two closed rounds of five; round 2 has a diverged (null loss) and a failed trial."""
    r0 = [_trial("a0", 0, 0.01, 0.50, 1.50), _trial("a1", 0, 0.03, 0.80, 0.60),
          _trial("a2", 0, 0.05, 0.85, 0.45), _trial("a3", 0, 0.08, 0.83, 0.50),
          _trial("a4", 0, 0.02, 0.70, 0.90)]
    r1 = [_trial("b0", 1, 0.02, 0.90, 0.30), _trial("b1", 1, 0.09, 0.10, None),
          _trial("b2", 1, 0.04, 0.93, 0.25), _trial("b3", 1, 0.06, 0.0, 0.0, status="error"),
          _trial("b4", 1, 0.012, 0.88, 0.35)]
    rounds = []
    for index, (trials, winner) in enumerate(((r0, "a2"), (r1, "b2"))):
        best = next(t for t in trials if t["trial_id"] == winner)
        rounds.append({"round": index, "closed": True, "start_checkpoint": None,
                       "winner": winner, "winner_config": best["config"],
                       "winner_metrics": best["metrics"], "flat": False, "trials": trials})
    return {"metric": "kappa", "mode": "max", "samples_per_round": 5, "rounds_total": 2,
            "flat_rounds": 0, "schedule": [{"lr": 0.05}, {"lr": 0.04}], "rounds": rounds}


TEST = {"accuracy": 0.95, "loss": 0.2, "sensitivity": 0.94, "specificity": 0.99, "mcc": 0.93,
        "confusion_matrix": (np.eye(10, dtype=int) * 9 + 1).tolist()}


def _summary(searcher: str = "gamma", book: dict | None = None) -> dict:
    options = RunOptions(searcher=searcher, rounds=2, samples_per_round=5, lr_min=0.01,
                         lr_max=0.1, out="/tmp/x")
    return build_summary(options, book or _book(), TEST, evaluations=10, wall_seconds=3.5,
                         search_seconds=2.0, experiment_path="/tmp/x/experiment", workers=2)


def test_summary_holds_every_field_with_the_final_winners_values():
    summary = _summary()
    assert summary["schedule"] == [0.05, 0.04]
    assert summary["final_round"] == 1 and summary["final_trial"] == "b2"
    assert summary["val_accuracy"] == 0.93 and summary["kappa"] == pytest.approx(
        0.93**2 - math.log(0.25) / 0.5)
    for key in ("test_accuracy", "test_loss", "sensitivity", "specificity", "mcc",
                "evaluations", "wall_seconds", "flat_rounds", "experiment_path", "options"):
        assert summary[key] is not None, key
    assert summary["options"]["samples_per_round"] == 5 and summary["options"]["workers"] == 2
    assert [r["failed"] for r in summary["rounds"]] == [0, 1]
    json.dumps(summary, allow_nan=False)


def test_a_last_round_without_winner_falls_back_to_the_previous_winner(tmp_path):
    book = _book()
    book["rounds"][1].update(winner=None, winner_config=None, winner_metrics=None)
    assert final_model_source(book["rounds"])["winner"] == "a2"
    summary = _summary(book=book)
    assert summary["schedule"] == [0.05, None] and summary["final_round"] == 0
    assert "no winner" in format_report(summary, "/tmp/x")
    assert len(write_figures(summary, book, tmp_path)) == 4  # a gap in the schedule plot


def test_observations_give_the_searchers_signal_and_nan_for_failures():
    space = SearchSpace([Dimension("lr", 0.01, 0.1, log=True)])
    searcher = make_searcher("gamma", samples_per_round=5, seed=0, space=space)
    X, y = observations(_book()["rounds"][1], space, searcher)
    assert X[:, 0].tolist() == [0.02, 0.09, 0.04, 0.06, 0.012]
    assert math.isnan(y[1]) and math.isnan(y[3])  # diverged (null loss), failed
    assert y[2] == pytest.approx(0.93**2 - math.log(0.25) / 0.5)
    floor = _trial("c", 0, 0.05, 0.4, 1.2)  # kappa 0: the proposer saw accuracy - loss
    assert observations({"trials": [floor]}, space, searcher)[1][0] == pytest.approx(-0.8)


def test_refit_uses_the_rounds_own_proposer_seed():
    """The refitted proposer is the one the searcher builds for that round."""
    space = SearchSpace([Dimension("lr", 0.01, 0.1, log=True)])
    searcher = make_searcher("gamma", samples_per_round=5, seed=7, space=space)
    live = searcher._proposer_for(3)
    again = searcher.make_proposer(space, round_seed(7, 3), [])
    np.testing.assert_array_equal(live.ask(), again.ask())


@pytest.mark.parametrize(("name", "student"), [("gamma", True), ("gaussian", False)])
def test_refit_surrogate_band_and_acquisition(name, student):
    curve, proposer = refit_surrogate(_summary(name), _book()["rounds"][0])
    s = curve.surrogate
    assert s is not None and proposer.n_observations == 5
    assert ("Student-t" in s.band_label) is student
    assert np.all(s.lower <= s.mean) and np.all(s.mean <= s.upper)
    assert np.all(s.acquisition >= 0) and s.x.min() == pytest.approx(0.01)
    assert curve.winner == 2 and curve.log_x


def test_grid_and_random_rounds_have_no_surrogate():
    curve, proposer = refit_surrogate(_summary("random"), _book()["rounds"][0])
    assert curve.surrogate is None and proposer is None and curve.lr.size == 5


def test_write_figures_and_render_from_a_directory(tmp_path):
    summary = _summary()
    write_json(tmp_path / "summary.json", summary)
    write_json(tmp_path / "rounds.json", _book())
    paths = write_figures(summary, _book(), tmp_path)
    names = sorted(p.rsplit("/", 1)[-1] for p in paths)
    assert names == ["confusion_matrix.png", "round_01.png", "round_02.png", "schedule.png"]
    for path in paths:
        assert imread(path).ndim == 3
    text, again = render(tmp_path)
    assert "learning rate" in text and "0.9500" in text and len(again) == 4
    assert "tensorboard --logdir /tmp/x/experiment" in text


def test_load_run_errors(tmp_path):
    with pytest.raises(ReportError, match="not a directory"):
        load_run(tmp_path / "nope")
    with pytest.raises(ReportError, match=r"no summary\.json"):
        load_run(tmp_path)
    (tmp_path / "summary.json").write_text("{broken")
    with pytest.raises(ReportError, match="cannot read"):
        load_run(tmp_path)
