"""A driver killed with SIGKILL mid-experiment, then resumed, finishes with closed rounds intact."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path

from tests.tune.resume_driver import ROUNDS, SAMPLES

ROOT = Path(__file__).resolve().parents[2]


def _driver(ray_session, storage, marker, mode):
    env = dict(os.environ, PYTHONPATH=str(ROOT), RAY_AUTH_MODE="disabled")
    address = ray_session.get_runtime_context().gcs_address
    return subprocess.Popen(
        [sys.executable, "-m", "tests.tune.resume_driver", address, str(storage), str(marker),
         mode], cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
        start_new_session=True)


def _closed_rounds(path):
    try:
        with open(path) as f:
            return [r for r in json.load(f)["rounds"] if r["closed"]]
    except (OSError, ValueError, KeyError):
        return []


def test_sigkill_mid_experiment_then_resume(ray_session, tmp_path):
    storage, marker = tmp_path / "results", tmp_path / "markers"
    marker.mkdir()
    rounds_file = storage / "killed" / "rounds.json"
    first = _driver(ray_session, storage, marker, "start")
    try:
        deadline = time.monotonic() + 180
        while len(_closed_rounds(rounds_file)) < 2:
            assert first.poll() is None, f"driver ended early:\n{first.stdout.read()}"
            assert time.monotonic() < deadline, "no round closed in time"
            time.sleep(0.1)
        os.killpg(first.pid, signal.SIGKILL)
    finally:
        if first.poll() is None:
            os.killpg(first.pid, signal.SIGKILL)
        first.wait()
    before = _closed_rounds(rounds_file)
    assert 2 <= len(before) < ROUNDS, "the kill must land mid-experiment"
    time.sleep(1.0)  # let Ray reap the dead driver's trial actors

    second = _driver(ray_session, storage, marker, "resume")
    try:
        output, _ = second.communicate(timeout=240)
    finally:
        if second.poll() is None:
            os.killpg(second.pid, signal.SIGKILL)
            second.wait()
    assert second.returncode == 0, output

    after = _closed_rounds(rounds_file)
    assert len(after) == ROUNDS
    assert after[: len(before)] == before, "a closed round changed on resume"
    ids = [t["trial_id"] for r in after for t in r["trials"]]
    assert len(ids) == ROUNDS * SAMPLES and len(set(ids)) == len(ids)
    starts = Counter(line.split()[0] for line in (marker / "starts.log").read_text().splitlines())
    for record in before:
        for trial in record["trials"]:
            assert starts[trial["trial_id"]] == 1, "a trial of a closed round ran again"
    for r in range(1, ROUNDS):
        winner = after[r - 1]["winner"]
        start = next(t["checkpoint"] for t in after[r - 1]["trials"] if t["trial_id"] == winner)
        assert after[r]["start_checkpoint"] == start
    # Across the kill only the winners' checkpoints were kept.
    for record in after:
        for trial in record["trials"]:
            kept = trial["checkpoint"] is not None and os.path.isdir(trial["checkpoint"])
            assert kept == (trial["trial_id"] == record["winner"]), trial


