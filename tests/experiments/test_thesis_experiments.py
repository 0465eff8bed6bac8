"""Each thesis-reproduction script runs in ``--quick`` mode and writes its JSON.

The scripts run the round search in process (``tune_gamma.local``), so no Ray session is needed.
"""

from __future__ import annotations

import importlib
import json
import sys
from pathlib import Path

import pytest

from tests.experiments import EXPERIMENTS

SCRIPTS = ("thesis_fig14_15", "thesis_tables4_5", "thesis_table6", "thesis_table7",
           "thesis_tables8_11")


@pytest.mark.parametrize("name", SCRIPTS)
def test_quick_mode_writes_json(name: str, tmp_path: Path) -> None:
    sys.path.insert(0, str(EXPERIMENTS))
    try:
        module = importlib.import_module(name)
    finally:
        sys.path.remove(str(EXPERIMENTS))
    out = tmp_path / f"{name}.json"
    argv = ["--quick", "--json", str(out)]
    if name == "thesis_fig14_15":
        argv += ["--png", str(tmp_path / "fig.png")]
    payload = module.main(argv)
    assert out.exists()
    data = json.loads(out.read_text())
    assert data["args"]["quick"] is True and payload["args"]["quick"] is True
    if name == "thesis_fig14_15":
        assert (tmp_path / "fig.png").stat().st_size > 0
        assert len(data["curves"]["accuracy_1"]) == len(data["lrs"])
    elif name == "thesis_tables8_11":
        assert all(c["seconds"] > 0 and 0 <= c["acc"] <= 1 for c in data["cells"])
    else:
        assert data["table"] and all(len(r["epochs"]) >= 1 for rs in data["runs"].values()
                                     for r in rs)
