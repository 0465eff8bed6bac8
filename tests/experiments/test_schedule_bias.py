"""experiments/schedule_bias.py on a hand-made benchmark payload."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.experiments import load_script

bias = load_script("schedule_bias")

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
