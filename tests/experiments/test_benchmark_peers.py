"""experiments/benchmark_peers.py: the --quick run end to end, and its pure summary helpers."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.experiments import load_script

bench = load_script("benchmark_peers")

KEYS = {"test_accuracy_mean", "test_accuracy_std", "val_accuracy_mean", "evaluations",
        "wall_seconds", "setting", "network", "seeds", "machine", "engine"}


def test_quick_run_on_ray_and_in_process(ray_session, tmp_path: Path) -> None:
    """Round contenders in process, gamma once on Ray, PBT on Ray: JSON, table and plot."""
    out, png = tmp_path / "peers.json", tmp_path / "peers.png"
    payload = bench.main(["--quick", "--engine", "local", "--ray-gamma",
                          "--contenders", "gamma,random,pbt",
                          "--json", str(out), "--plot", str(png),
                          "--scratch", str(tmp_path / "ray")])
    saved = json.loads(out.read_text())
    assert set(saved["contenders"]) == {"gamma", "random", "pbt"}
    budget = bench.Budget.quick()
    for name, entry in saved["contenders"].items():
        assert set(entry) >= KEYS, name
        assert 0.0 <= entry["test_accuracy_mean"] <= 1.0
        assert entry["seeds"] == 1 and entry["setting"] == "500" and entry["network"] == "demo"
        assert entry["test_accuracy_std"] == 0.0
    rounds = budget.epochs * budget.samples_per_round
    assert saved["contenders"]["gamma"]["engine"] == "local"
    assert saved["contenders"]["gamma"]["evaluations"] == rounds
    assert saved["contenders"]["pbt"]["engine"] == "ray"
    # PBT reports once per epoch per member; an exploit can skip epochs, never add them
    assert 0 < saved["contenders"]["pbt"]["evaluations"] <= budget.population * budget.epochs
    ray_gamma = saved["ray_reference"]["gamma"]
    assert ray_gamma["engine"] == "ray" and ray_gamma["evaluations"] == rounds
    assert len(ray_gamma["runs"][0]["schedule"]) == budget.epochs
    assert "| gamma | local | 1 |" in payload["markdown"]
    assert png.stat().st_size > 0
    assert not any((tmp_path / "ray").iterdir())  # Ray's scratch directories are removed


def _entry(values: list[float], engine: str = "local") -> dict:
    runs = [{"seed": s, "test_accuracy": v, "val_accuracy": 0.9, "evaluations": 120,
             "wall_seconds": 1.0} for s, v in enumerate(values)]
    return bench.summarise("x", runs, task=bench.Task(), engine=engine, machine="m")


def test_summary_and_paired_difference() -> None:
    ref, other = _entry([0.90, 0.92, 0.94]), _entry([0.91, 0.93, 0.96])
    assert ref["test_accuracy_mean"] == pytest.approx(0.92)
    assert ref["test_accuracy_std"] == pytest.approx(0.02)
    delta = bench.paired_against(ref, other)
    assert delta["mean"] == pytest.approx(0.04 / 3) and delta["n"] == 3
    assert 0.0 < delta["p"] < 1.0
    table = bench.markdown_table({"gamma": ref, "random": other})
    assert "| random | local | 3 | 93.3 ± 2.5 |" in table
    assert "+1.3 pt" in table


def test_budget_is_equal_across_contenders() -> None:
    budget = bench.Budget()
    equal = {n: budget.nominal(n) for n in ("gamma", "gaussian", "random", "pbt", "pb2",
                                            "asha", "optuna_tpe")}
    assert set(equal.values()) == {120}
    assert budget.nominal("grid100") == 1000 and budget.nominal("fixed_0.1") == 10


def test_unknown_contender_is_refused() -> None:
    with pytest.raises(SystemExit):
        bench.parse_args(["--contenders", "gamma,hyperband"])


def test_resume_keeps_finished_runs(tmp_path: Path) -> None:
    """In process only (no Ray): a --resume with every seed done keeps the runs and adds none."""
    out = tmp_path / "peers.json"
    common = ["--quick", "--engine", "local", "--json", str(out)]
    first = bench.main([*common, "--contenders", "random"])
    again = bench.main([*common, "--contenders", "random,gamma", "--resume"])
    assert again["contenders"]["random"]["runs"] == first["contenders"]["random"]["runs"]
    assert list(again["contenders"]) == ["gamma", "random"]  # the table's order
    assert len(again["commands"]) == 2
    with pytest.raises(SystemExit):
        bench.main([*common, "--setting", "full", "--resume"])
