"""experiments/schedule_bias.py on a hand-made benchmark payload."""

from __future__ import annotations

import importlib.util
import json
import sys
from pathlib import Path

import pytest

SCRIPT = Path(__file__).resolve().parents[2] / "experiments" / "schedule_bias.py"
spec = importlib.util.spec_from_file_location("schedule_bias", SCRIPT)
assert spec is not None and spec.loader is not None
bias = importlib.util.module_from_spec(spec)
sys.modules.setdefault("schedule_bias", bias)
spec.loader.exec_module(bias)

PAYLOAD = {
    "task": {"setting": "500", "network": "demo", "lr_min": 0.01, "lr_max": 1.0},
    "contenders": {
        # log positions: 0.01 -> 0, 0.1 -> 0.5, 1.0 -> 1, 0.0105 -> ~0.0106
        "gamma": {"runs": [{"schedule": [0.1, 0.0105, 0.01, 1.0]},
                           {"schedule": [1.0, None, 0.1, 0.1]}]},
        "pbt": {"runs": [{"schedule": []}]},  # not a round contender: ignored
    },
}


def test_positions_and_shares_by_hand(tmp_path: Path, capsys) -> None:
    s = bias.summarise(PAYLOAD)["gamma"]
    assert s["rounds"] == 7  # the None round (no winner) is skipped
    every = [0.5, 0.0106, 0.0, 1.0, 1.0, 0.5, 0.5]
    assert s["mean_position"] == pytest.approx(sum(every) / 7, abs=1e-3)
    assert s["late_mean_position"] == pytest.approx((0.0 + 1.0 + 0.5 + 0.5) / 4)
    assert s["floor_share"] == pytest.approx(2 / 7)
    assert set(bias.summarise(PAYLOAD)) == {"gamma"}

    path = tmp_path / "peers.json"
    path.write_text(json.dumps(PAYLOAD))
    bias.main([str(path)])
    out = capsys.readouterr().out
    assert "| gamma | 7 | 0.50 | 0.50 | 29 % |" in out
