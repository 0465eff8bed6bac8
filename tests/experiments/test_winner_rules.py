"""experiments/winner_rules.py: its ``best`` rule is tune_gamma's, and --quick reports all rules."""

from __future__ import annotations

import json
import math
from pathlib import Path

import pytest

from tests.experiments import load_script

rules = load_script("winner_rules")
peers = load_script("peers")


def test_best_rule_reproduces_the_in_process_rounds() -> None:
    from tune_gamma.local import run_rounds_in_process
    from tune_gamma.run import make_searcher
    from tune_gamma.training.loop import evaluate, to_device

    task = peers.with_epochs(peers.Task(setting="500"), 2)
    ours = rules.run_rule("best", task, seed=3, samples=3)
    spec, splits = task.spec(3), task.splits()
    searcher = make_searcher("gamma", samples_per_round=3, seed=3)
    result = run_rounds_in_process(spec, searcher, {"lr": task.lr_domain()}, 2, 3,
                                   splits=splits, metric=peers.METRIC, mode=peers.MODE)
    X, y = to_device(*splits.test, "cpu")
    accuracy = float(evaluate(result.final_model(spec, splits), X, y)["accuracy"])
    assert ours["schedule"] == [s["lr"] for s in result.schedule]
    assert ours["test_accuracy"] == accuracy


def test_quick_run_reports_every_rule_against_best(tmp_path: Path) -> None:
    out = tmp_path / "rules.json"
    rules.main(["--quick", "--json", str(out)])
    saved = json.loads(out.read_text())
    summary = saved["settings"]["500"]["summary"]
    assert list(summary) == list(rules.RULES)
    for name, row in summary.items():
        assert 0.0 <= row["test_accuracy_mean"] <= 1.0 and row["seeds"] == 1, name
    runs = saved["settings"]["500"]["runs"]
    assert all(len(r[0]["schedule"]) == 2 for r in runs.values())
    assert saved["quick"] is True and "| best |" in saved["markdown"]


def test_larger_rate_rule_takes_the_largest_rate_near_the_best() -> None:
    import numpy as np

    def trial(lr: float, kappa: float) -> object:
        return rules.Trial(0, np.array([lr]), {"lr": lr},
                           {"kappa": kappa, "accuracy": 0.9, "loss": 0.3})

    trials = [trial(0.02, 4.00), trial(0.05, 3.97), trial(0.09, 3.50),
              trial(0.1, math.nan)]
    assert rules.choose("larger_rate_1pct", trials, [], last=False)[0].config["lr"] == 0.05
    assert rules.choose("larger_rate_1pct", trials, [], last=True)[0].config["lr"] == 0.02
    assert [t.config["lr"] for t in rules.choose("top3", trials, [], last=False)] == \
        [0.02, 0.05, 0.09]  # the diverged trial is never handed on


@pytest.mark.parametrize("argv", [["--rules", "nope"], ["--settings", "700"], ["--seeds", "0"]])
def test_bad_arguments_are_refused(argv: list[str]) -> None:
    with pytest.raises(SystemExit):
        rules.main(argv)
