"""retain_freed_memory: the heap churn of a batch loop stops faulting pages in; the switch works.

Each case runs in a fresh interpreter, because malloc's settings belong to the process.
"""

from __future__ import annotations

import os
import platform
import subprocess
import sys

import pytest

GLIBC = sys.platform.startswith("linux") and platform.libc_ver()[0] == "glibc"

# 20 rounds of 100 blocks of 100 KB (below glibc's default mmap threshold, so they come from
# the heap), freed together: by default glibc trims the freed heap top each round and the
# next round faults ~2,500 pages in again.
CHURN = """
import resource, sys
import numpy as np
from tune_gamma.training.memory import retain_freed_memory
applied = retain_freed_memory() if sys.argv[1] == "retain" else False
def churn():
    blocks = [np.ones(12_800) for _ in range(100)]
    del blocks
churn()
before = resource.getrusage(resource.RUSAGE_SELF).ru_minflt
for _ in range(20):
    churn()
print(applied, resource.getrusage(resource.RUSAGE_SELF).ru_minflt - before)
"""


def _churn(mode: str, **env: str) -> tuple[bool, int]:
    out = subprocess.run([sys.executable, "-c", CHURN, mode], capture_output=True, text=True,
                         check=True, env={**os.environ, **env}, timeout=120)
    applied, faults = out.stdout.split()
    return applied == "True", int(faults)


@pytest.mark.skipif(not GLIBC, reason="mallopt's thresholds are glibc's")
def test_retained_memory_stops_page_faults_of_heap_churn():
    default_applied, default_faults = _churn("default")
    applied, faults = _churn("retain")
    assert not default_applied and default_faults > 20 * 1000  # the churn this module removes
    assert applied and faults < 200


@pytest.mark.skipif(not GLIBC, reason="mallopt's thresholds are glibc's")
@pytest.mark.parametrize("value", ["0", "false", "No"])
def test_environment_switch_keeps_glibc_defaults(value):
    applied, faults = _churn("retain", TUNE_GAMMA_RETAIN_FREED_MEMORY=value)
    assert not applied and faults > 20 * 1000


def test_second_call_is_a_no_op_that_reports_the_first():
    code = ("from tune_gamma.training.memory import retain_freed_memory as r\n"
            "print(r(), r())")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True, timeout=120)
    assert out.stdout.split() == ([str(GLIBC)] * 2)


def test_worker_env_asks_for_one_arena_on_glibc_and_honours_the_switch(monkeypatch) -> None:
    from tune_gamma.training.memory import ENV_SWITCH, worker_env

    monkeypatch.delenv(ENV_SWITCH, raising=False)
    monkeypatch.delenv("MALLOC_ARENA_MAX", raising=False)
    assert worker_env() == ({"MALLOC_ARENA_MAX": "1"} if GLIBC else {})
    monkeypatch.setenv("MALLOC_ARENA_MAX", "4")  # the user's own choice stands
    assert worker_env() == {}
    monkeypatch.delenv("MALLOC_ARENA_MAX")
    monkeypatch.setenv(ENV_SWITCH, "0")
    assert worker_env() == {}


# A separate Ray instance (the test session's own Ray is not started by tune_gamma.run), so this
# runs in its own interpreter: does a task on Ray started as the CLI starts it see the setting?
WORKER_ENV = """
import os
import ray
from tune_gamma.run import RunOptions, _start_ray
os.environ["RAY_AUTH_MODE"] = "disabled"
assert _start_ray(RunOptions())
@ray.remote(num_cpus=0)
def arena_max():
    return os.environ.get("MALLOC_ARENA_MAX")
print("worker", ray.get(arena_max.remote()))
ray.shutdown()
"""


@pytest.mark.skipif(not GLIBC, reason="MALLOC_ARENA_MAX is glibc's")
def test_ray_started_by_the_cli_gives_workers_one_malloc_arena() -> None:
    env = {k: v for k, v in os.environ.items() if k not in ("RAY_ADDRESS", "MALLOC_ARENA_MAX")}
    out = subprocess.run([sys.executable, "-c", WORKER_ENV], capture_output=True, text=True,
                         env=env, timeout=300)
    assert out.returncode == 0, out.stderr[-2000:]
    assert "worker 1" in out.stdout.splitlines()
