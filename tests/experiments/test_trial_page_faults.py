"""experiments/trial_page_faults.py --quick on the session's Ray: probed epochs reach the report.

No count or timing is asserted: that a Ray trial's epochs were probed and reported is the point.
"""

from __future__ import annotations

import json
import math
from pathlib import Path

import pytest

from tests.experiments import load_script

probe = load_script("trial_page_faults")


def test_quick_run_reports_probed_epochs_from_ray_and_the_loop(ray_session,
                                                                tmp_path: Path) -> None:
    out = tmp_path / "faults.json"
    probe.main(["--quick", "--json", str(out)])
    results = json.loads(out.read_text())["results"]
    assert set(results) == {"ray (this process's instance)", "in-process loop"}
    for name, row in results.items():
        assert row["epochs"] == 2, name  # one round of two one-epoch trials
        assert math.isfinite(row["probe_wall_s_median"]) and row["probe_wall_s_median"] > 0
        assert row["probe_minor_faults_median"] >= 0
    from tune_gamma import local
    from tune_gamma.training import trainable

    assert local.train_epoch is trainable.train_epoch  # the probe is gone after the run


def test_bad_counts_are_refused() -> None:
    with pytest.raises(SystemExit):
        probe.main(["--rounds", "0"])
