"""experiments/acquisition_boundary.py --quick: both maximisers run on the same states and report.

No timing is asserted; only the report's shape and what must hold whatever the machine: no
maximiser beats the reference, and the shares are shares.
"""

from __future__ import annotations

import json
from pathlib import Path

from tests.experiments import load_script

bench = load_script("acquisition_boundary")


def test_quick_run_compares_both_maximisers_and_writes_json(tmp_path: Path) -> None:
    out = tmp_path / "boundary.json"
    bench.main(["--quick", "--dims", "1", "2", "--json", str(out)])
    saved = json.loads(out.read_text())
    assert set(saved["dims"]) == {"1d", "2d"}
    for by_name in saved["dims"].values():
        assert set(by_name) == set(bench.VARIANTS)
        for summary in by_name.values():
            assert summary["asks"] == 2
            assert summary["shortfall_p90"] >= 0.0
            assert 0.0 <= summary["found_max_share"] <= summary["within_1_share"] <= 1.0
            assert 0.0 <= summary["best_on_boundary_share"] <= 1.0
            assert summary["maximize_ms_p50"] > 0.0
