"""A real second Ray node on this machine: rounds run across both nodes, and survive losing one.

The second node is a separate raylet started with ``ray start --address=<this session's GCS>``;
every process it starts shares one process group, which the test kills by id (also on failure).
"""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import pytest
import ray
from ray import tune

from tests.tune.toy import pbt_style_trainable, read_state
from tune_gamma import GammaSearcher, RandomSearcher, RoundScheduler

RAY = str(Path(sys.executable).with_name("ray"))


def _alive_nodes() -> list[dict]:
    return [n for n in ray.nodes() if n["Alive"]]


@contextlib.contextmanager
def second_node(ray_session, cpus: int = 1):
    """Start a node that joins the session's cluster; yield its node id; always stop it."""
    before = {n["NodeID"] for n in _alive_nodes()}
    address = ray_session.get_runtime_context().gcs_address
    process = subprocess.Popen(
        [RAY, "start", f"--address={address}", f"--num-cpus={cpus}", "--num-gpus=0",
         "--node-ip-address=127.0.0.1", "--block", "--disable-usage-stats"],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True,
        env=dict(os.environ, RAY_AUTH_MODE="disabled"))
    try:
        deadline = time.monotonic() + 60
        while True:
            new = [n["NodeID"] for n in _alive_nodes() if n["NodeID"] not in before]
            if new:
                break
            assert process.poll() is None, "ray start exited"
            assert time.monotonic() < deadline, "the second node did not join"
            time.sleep(0.2)
        yield new[0], process
    finally:
        stop_node(process)


def _session_members(session_id: int) -> list[int]:
    """Every process in the session `ray start` began (its raylet, agents and workers; Ray
    gives each worker a process group of its own, so killing the group is not enough)."""
    members = []
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            with contextlib.suppress(OSError, ValueError, IndexError):
                with open(f"/proc/{entry}/stat") as f:
                    fields = f.read().rsplit(")", 1)[1].split()
                if int(fields[3]) == session_id:  # field 6 of stat: the session id
                    members.append(int(entry))
    return members


def stop_node(process: subprocess.Popen) -> None:
    """Kill every process of the node; drop the marker file `ray start` leaves behind."""
    for pid in _session_members(process.pid):
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signal.SIGKILL)
    process.wait()
    with contextlib.suppress(FileNotFoundError):
        os.remove(os.path.join(tempfile.gettempdir(), "ray", "ray_current_cluster"))


def _starts(marker: Path) -> list[tuple[str, str]]:
    path = marker / "starts.log"
    if not path.exists():
        return []
    return [tuple(line.split()) for line in path.read_text().splitlines() if line.strip()]


def _run(tmp_path, marker, searcher, rounds, **kwargs):
    # Every trial keeps its checkpoint: the tests read each trial's lineage.
    scheduler = RoundScheduler(rounds=rounds, keep_losing_checkpoints=True)
    tune.run(pbt_style_trainable,
             config={"lr": tune.uniform(0.01, 0.5), "marker_dir": str(marker),
                     "sleep": kwargs.pop("sleep", 0.5)},
             search_alg=searcher, scheduler=scheduler, metric="kappa", mode="max",
             num_samples=-1, reuse_actors=False, storage_path=str(tmp_path / "shared"),
             name="multinode", verbose=0, raise_on_failed_trial=False,
             max_concurrent_trials=3, **kwargs)
    return scheduler


def test_rounds_run_across_two_nodes_from_the_previous_winner(ray_session, tmp_path):
    marker = tmp_path / "markers"
    marker.mkdir()
    head = ray_session.get_runtime_context().get_node_id()
    with second_node(ray_session) as (node, _):
        scheduler = _run(tmp_path, marker, GammaSearcher(samples_per_round=4, seed=21), 2)
    nodes = {trial_node for _, trial_node in _starts(marker)}
    assert {head, node} <= nodes, "trials did not run on both nodes"
    where = dict(_starts(marker))
    for r in range(1, 2):
        previous = scheduler.rounds[r - 1]["winner"]
        for trial in scheduler.rounds[r]["trials"]:
            lineage = read_state(trial["checkpoint"])["lineage"]
            assert lineage[-2] == previous, (
                f"round {r} trial on node {where[trial['trial_id']][:8]} did not start from "
                f"round {r - 1}'s winner (made on node {where[previous][:8]})")


def test_a_node_lost_mid_round_does_not_lose_the_experiment(ray_session, tmp_path):
    marker = tmp_path / "markers"
    marker.mkdir()
    import threading

    killed = threading.Event()
    victims: list[str] = []

    with second_node(ray_session) as (node, process):
        def kill_when_busy() -> None:
            deadline = time.monotonic() + 120
            # Wait until a trial is running (sleeping mid-epoch) on the second node.
            while time.monotonic() < deadline and not killed.is_set():
                on_node = [t for t, n in _starts(marker) if n == node]
                if on_node:
                    stop_node(process)
                    victims.append(on_node[-1])  # it sleeps 1.5 s before its epoch: mid-trial
                    killed.set()
                    return
                time.sleep(0.05)

        killer = threading.Thread(target=kill_when_busy, daemon=True)
        killer.start()
        scheduler = _run(tmp_path, marker, RandomSearcher(samples_per_round=4, seed=22), 2,
                         sleep=1.5, max_failures=2)
        killer.join(timeout=5)
    assert killed.is_set(), "the second node was never busy mid-round"
    starts = _starts(marker)
    status = {t["trial_id"]: t["status"] for r in scheduler.rounds for t in r["trials"]}
    victim = victims[0]
    retried = sum(1 for t, _ in starts if t == victim) > 1
    assert retried or status[victim] == "error", f"trial {victim} vanished with its node"
    assert len(scheduler.schedule) == 2 and all(r["closed"] for r in scheduler.rounds)
    for r in range(1, 2):
        previous = scheduler.rounds[r - 1]["winner"]
        for trial in scheduler.rounds[r]["trials"]:
            if trial["status"] == "done":
                assert read_state(trial["checkpoint"])["lineage"][-2] == previous


pytestmark = pytest.mark.usefixtures("ray_session")
