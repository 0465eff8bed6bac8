"""experiments/benchmark_overhead.py --quick on the session's Ray: the report's shape and sense.

No timing is asserted: the numbers only have to exist, be finite and be positive.
"""

from __future__ import annotations

import json
import math
from pathlib import Path

from tests.experiments import load_script

bench = load_script("benchmark_overhead")


def _positive(value: object) -> bool:
    return isinstance(value, (int, float)) and math.isfinite(value) and value > 0


def test_quick_run_reports_ratios_breakdown_and_suggest_latency(ray_session,
                                                                 tmp_path: Path) -> None:
    out = tmp_path / "overhead.json"
    bench.main(["--quick", "--json", str(out)])
    saved = json.loads(out.read_text())

    for key in ("ratio_1_worker", "ratio_2_workers", "small_epoch_ratio_2_workers",
                "ratio_1_worker_loop_epochs"):
        assert _positive(saved[key]), key
    # --quick measures suggest after fewer observations than the full run's 100 and 1,000.
    assert set(saved["suggest_p50_ms"]) == {str(n) for n in bench.QUICK_SUGGEST_OBSERVATIONS}
    assert set(saved["on_trial_complete_p50_ms"]) == set(saved["suggest_p50_ms"])
    for row in saved["suggest_p50_ms"].values():
        assert set(row) == {"1d", "3d"} and all(_positive(v) for v in row.values())
    for n, row in saved["suggest_p50_ms_range"].items():
        for dim, (low, high) in row.items():
            assert low <= saved["suggest_p50_ms"][n][dim] <= high

    breakdown = saved["breakdown"]["large"]
    for key in ("ray_init_s", "tune_start_s", "actor_first_use_s", "checkpoint_load_s",
                "checkpoint_save_s", "suggest_s", "searcher_complete_s", "scheduler_hooks_s",
                "snapshot_s", "loggers_s", "other_s", "total_extra_s"):
        assert isinstance(breakdown[key], float) and math.isfinite(breakdown[key]), key
    assert _positive(breakdown["tune_start_s"]) and _positive(saved["epoch_seconds"]["large"])

    large = saved["regimes"]["large"]
    one = large["ray"]["1"]
    # Same evaluations: one trial at a time on Ray proposes and picks exactly as the loop does.
    assert one["schedule_matches_local"] is True
    assert one["trials"] == large["rounds"] * large["samples_per_round"]
    assert one["actor_events"]["started"] == 1  # one actor, reused for every trial
    assert saved["machine"]["cpu_count"] >= 1


def test_markdown_table_lists_every_run() -> None:
    report = {
        "ray_init_s": 1.0,
        "regimes": {"small": {"model": "mlp6", "data": "digits/500", "local": {
            "wall_s": 2.0, "epoch_s_median": 0.02}, "ray": {"1": {
                "wall_s": 4.0, "trials": 4, "ratio": 2.5, "schedule_matches_local": True,
                "epoch_s_median": 0.03, "ratio_loop_epochs": 2.25,
                "actor_events": {"started": 1}}}}},
        "breakdown": {"small": {"ray_init_s": 1.0, "other_s": 0.5}},
        "suggest_p50_ms": {"100": {"1d": 3.0, "3d": 4.0}},
    }
    text = bench.markdown(report)
    assert ("| small | mlp6, digits/500 | 0.020 / 0.030 | 4 | 1 | 2.0 | 4.0 (+1.0) | 2.50 | 2.25 "
            "| 1 | True |") in text
    assert "| other_s | 0.500 |" in text and "| 100 observations | 3.0 | 4.0 |" in text


def test_suggest_timings_leave_the_fed_searcher_untouched() -> None:
    searcher = bench.fed_searcher(8, 2)
    first, _ = bench.suggest_latency(searcher, 3)
    second, _ = bench.suggest_latency(searcher, 3)
    assert len(first) == len(second) == 3
    assert searcher._proposer_for(0).n_observations == 8  # each timing ran on a copy
    table = bench.suggest_table(2, observations=(6,), repeats=2)
    low, high = table["suggest_range"]["6"]["3d"]
    assert 0 < low <= table["suggest"]["6"]["3d"] <= high


def test_ablations_are_picked_by_name_per_regime() -> None:
    assert [f"{k}{key}" for key, k, _ in bench._ablations("large")] == [
        "2-tune-actors", "1-keep-all-checkpoints"]
    assert [f"{k}{key}" for key, k, _ in bench._ablations("small")] == [
        "2-tune-actors", "1-trial-tensorboard"]
    assert bench._ablations("large", ["1-keep-all-checkpoints"]) == [
        ("-keep-all-checkpoints", 1, {"keep_checkpoints": True})]
    assert bench._ablations("small", []) == []
