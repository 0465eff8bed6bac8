"""experiments/acquisition_polish.py --quick: both polishes run from the same starts and report.

No timing is asserted; only the report's shape and what must hold whatever the machine: no
polish beats the reference, and the new polish keeps to its evaluation budget.
"""

from __future__ import annotations

import json
from pathlib import Path

from tests.experiments import load_script

bench = load_script("acquisition_polish")


def test_quick_run_compares_both_polishes_and_writes_json(tmp_path: Path) -> None:
    out = tmp_path / "polish.json"
    bench.main(["--quick", "--dims", "1", "2", "--json", str(out)])
    saved = json.loads(out.read_text())
    assert set(saved["dims"]) == {"1d", "2d"}
    for by_name in saved["dims"].values():
        assert set(by_name) == set(bench.POLISHERS)
        for summary in by_name.values():
            assert summary["asks"] == 2
            assert summary["shortfall_p90"] >= 0.0 and summary["gain_over_start_p50"] >= 0.0
            assert 0.0 <= summary["found_max_share"] <= summary["within_1_share"] <= 1.0
            assert summary["polish_ms_p50"] > 0.0
        before = by_name["coupled L-BFGS-B (before 1e4af1f)"]
        assert before["better_than_baseline_share"] == before["worse_than_baseline_share"] == 0
        now = by_name["projected BFGS per start (now)"]
        assert 1 <= now["evaluations_mean"] <= bench.POLISH_BUDGET
