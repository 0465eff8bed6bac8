"""experiments/malloc_epochs.py --quick: both settings run in their own processes and report.

No timing is asserted; only that the runs happened, with the setting each was meant to have.
"""

from __future__ import annotations

import json
import math
import platform
import sys
from pathlib import Path

from tests.experiments import load_script

bench = load_script("malloc_epochs")
GLIBC = sys.platform.startswith("linux") and platform.libc_ver()[0] == "glibc"


def test_quick_run_compares_default_and_retained_malloc(tmp_path: Path) -> None:
    out = tmp_path / "malloc.json"
    report = bench.main(["--quick", "--json", str(out)])
    saved = json.loads(out.read_text())
    assert saved["summary"] == json.loads(json.dumps(report["summary"]))
    default, retained = (saved["summary"][mode] for mode in bench.MODES)
    assert default["applied"] is False and retained["applied"] is GLIBC
    for row in (default, retained):
        assert math.isfinite(row["epoch_s_median"]) and row["epoch_s_median"] > 0
        assert row["faults_per_epoch_median"] >= 0
    assert math.isfinite(saved["speedup"]) and saved["speedup"] > 0


def test_bad_counts_are_refused() -> None:
    import pytest

    with pytest.raises(SystemExit):
        bench.main(["--runs", "0"])
