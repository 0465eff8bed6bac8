"""experiments/checkpoint_writes.py --quick: both write patterns run and report.

No timing is asserted; only that every write happened and the files are gone afterwards.
"""

from __future__ import annotations

import json
import math
from pathlib import Path

import pytest

from tests.experiments import load_script

bench = load_script("checkpoint_writes")


def test_quick_run_writes_both_patterns_and_cleans_up(tmp_path: Path) -> None:
    out = tmp_path / "writes.json"
    report = bench.main(["--quick", "--dir", str(tmp_path), "--json", str(out)])
    saved = json.loads(out.read_text())
    assert set(saved["summary"]) == set(bench.PATTERNS)
    for row in saved["summary"].values():
        assert row["writes"] == 3 and row["write_s_median"] > 0 and row["mb_per_s"] > 0
    assert math.isfinite(report["kept_over_deleted"])
    assert [p.name for p in tmp_path.iterdir()] == ["writes.json"]


def test_bad_counts_are_refused() -> None:
    with pytest.raises(SystemExit):
        bench.main(["--files", "1"])
