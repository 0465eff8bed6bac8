"""Keep freed heap memory in the process rather than handing it back to the kernel every batch.

glibc's malloc gives freed memory back to the kernel: it unmaps large blocks and trims the top
of the heap. Its thresholds for both move with the program's history, so two processes that
run the same epoch can differ a lot. On CPU, each batch's activations then fault their pages in
again. One epoch of the Keras CNN on 28×28 images (``experiments/benchmark_overhead.py``'s large
regime) took a median of 67,000 minor page faults and 1.24 s over six fresh processes (1.12 to
1.41 s), against none and 1.11 s with the thresholds below (``experiments/malloc_epochs.py``).

``retain_freed_memory`` fixes both thresholds with ``mallopt`` (glibc ``malloc.h``):
``M_MMAP_THRESHOLD`` = 32 MiB, the most glibc accepts on 64-bit, so blocks below it come from
the heap; ``M_TRIM_THRESHOLD`` = 1 GiB, so the heap top is kept. Memory freed by one batch then
serves the next, and the faults drop to about zero. The cost is that a process keeps its peak
heap, up to 1 GiB above what it uses, until it exits. Set ``TUNE_GAMMA_RETAIN_FREED_MEMORY=0``
to keep glibc's defaults. Other C libraries are left alone.

One more glibc detail matters on Ray: a function trainable runs in a thread of its own, a new
one per trial, and glibc gives such threads their own arenas, whose 64 MiB sub-heaps are
unmapped whenever one empties, whatever the thresholds. ``MALLOC_ARENA_MAX=1`` makes every
thread use the main heap. It has to be in a process's environment when it starts, so
``worker_env`` gives it for Ray's workers (``ray.init(runtime_env={"env_vars": ...})``, as
``tune_gamma.run`` starts Ray). Without it, a Ray trial's epoch of the same CNN took 10,700
minor page faults and 1.40 s; with it, 2 faults and 1.25 s, as in the in-process loop
(``experiments/trial_page_faults.py``).
"""

from __future__ import annotations

import ctypes
import os
import platform
import sys

M_TRIM_THRESHOLD = -1  # glibc malloc.h
M_MMAP_THRESHOLD = -3
MMAP_THRESHOLD_BYTES = 32 << 20  # glibc's ceiling for M_MMAP_THRESHOLD on 64-bit
TRIM_THRESHOLD_BYTES = 1 << 30
ENV_SWITCH = "TUNE_GAMMA_RETAIN_FREED_MEMORY"

_applied = False


def _glibc_and_switched_on() -> bool:
    """glibc on Linux, and ``TUNE_GAMMA_RETAIN_FREED_MEMORY`` not ``0``, ``false`` or ``no``."""
    if os.environ.get(ENV_SWITCH, "1").strip().lower() in ("0", "false", "no"):
        return False
    return sys.platform.startswith("linux") and platform.libc_ver()[0] == "glibc"


def retain_freed_memory() -> bool:
    """Set glibc's mmap and trim thresholds (see the module doc) once per process.

    Returns True when they are set, now or by an earlier call. Returns False on a C library
    other than glibc, or when ``TUNE_GAMMA_RETAIN_FREED_MEMORY`` is ``0``, ``false`` or ``no``.
    """
    global _applied
    if _applied:
        return True
    if not _glibc_and_switched_on():
        return False
    libc = ctypes.CDLL(None)
    mallopt = getattr(libc, "mallopt", None)
    if mallopt is None:
        return False
    mallopt.argtypes = (ctypes.c_int, ctypes.c_int)
    mallopt.restype = ctypes.c_int
    _applied = bool(mallopt(M_MMAP_THRESHOLD, MMAP_THRESHOLD_BYTES)
                    and mallopt(M_TRIM_THRESHOLD, TRIM_THRESHOLD_BYTES))
    return _applied


def worker_env() -> dict[str, str]:
    """Environment for Ray's worker processes: ``MALLOC_ARENA_MAX=1`` on glibc (see the module
    doc). Nothing elsewhere, when ``TUNE_GAMMA_RETAIN_FREED_MEMORY`` switches this off, or when
    ``MALLOC_ARENA_MAX`` is set already: the user's value stands (and a job submitted with it in
    its runtime env would otherwise clash with this one in ``ray.init``)."""
    if "MALLOC_ARENA_MAX" in os.environ or not _glibc_and_switched_on():
        return {}
    return {"MALLOC_ARENA_MAX": "1"}
