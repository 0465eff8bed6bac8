"""What writing a checkpoint file costs when old checkpoints pile up, and when they are deleted.

Each trial of the overhead benchmark's large regime ends with ``tune.report``, and Ray copies
the trial's checkpoint (13.4 MB: the Keras CNN's weights and SGD momentum) into the
experiment directory. This script writes files of that size, one every ``--gap`` seconds, into
one directory, the way a run does:

* ``kept``: every file stays, as when every trial keeps its checkpoint
  (``RoundScheduler(keep_losing_checkpoints=True)``);
* ``deleted``: a file is deleted once the next one is written, as ``RoundScheduler`` deletes a
  checkpoint that can no longer win its round.

It reports the median seconds per write and the write rate. On a machine whose free memory is
handed back to its host (a VM with free page reporting), a write into new page cache costs a
host page fault per page; a write into pages freed moments ago does not.

Run (about 2 minutes here)::

    .venv/bin/python experiments/checkpoint_writes.py --json \
        experiments/results/checkpoint_writes.json

``--quick`` (small files, no gap) is what the tests run.
"""

from __future__ import annotations

import argparse
import os
import platform
import statistics
import sys
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

if __package__ in (None, ""):
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from _common import write_json

CHECKPOINT_BYTES = 13_416_863  # the large regime's model.pt
PATTERNS = ("kept", "deleted")


def write_series(directory: Path, pattern: str, files: int, size: int,
                 gap_s: float) -> list[float]:
    """Seconds of each of ``files`` writes of ``size`` bytes into ``directory`` (``pattern``
    as in the module doc); every file is gone afterwards."""
    payload = os.urandom(size)
    seconds: list[float] = []
    written: list[Path] = []
    for i in range(files):
        path = directory / f"{pattern}-{i}.pt"
        start = time.perf_counter()
        with open(path, "wb") as f:
            f.write(payload)
        seconds.append(time.perf_counter() - start)
        written.append(path)
        if pattern == "deleted" and len(written) > 1:
            written.pop(0).unlink()
        time.sleep(gap_s)
    for path in written:
        path.unlink()
    return seconds


def run(files: int, size: int, gap_s: float, repeats: int,
        directory: str | None = None) -> dict[str, Any]:
    """``repeats`` series of each pattern, taking turns; per pattern the median write."""
    series: dict[str, list[float]] = {p: [] for p in PATTERNS}
    with tempfile.TemporaryDirectory(prefix="tg-writes-", dir=directory) as tmp:
        for _ in range(repeats):
            for pattern in PATTERNS:
                series[pattern] += write_series(Path(tmp), pattern, files, size, gap_s)
    summary = {}
    for pattern, seconds in series.items():
        median = statistics.median(seconds)
        summary[pattern] = {"write_s_median": median, "writes": len(seconds),
                            "mb_per_s": size / median / 1e6 if median > 0 else float("nan")}
    return {"summary": summary, "file_bytes": size, "files_per_series": files, "gap_s": gap_s,
            "repeats": repeats, "machine": {"platform": platform.platform(),
                                            "cpus": os.cpu_count()},
            "kept_over_deleted": summary["kept"]["write_s_median"]
            / summary["deleted"]["write_s_median"]}


def main(argv: Sequence[str] | None = None) -> dict[str, Any]:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="small files, no gap (tests)")
    parser.add_argument("--files", type=int, default=24, help="writes per series (24)")
    parser.add_argument("--repeats", type=int, default=2, help="series per pattern (2)")
    parser.add_argument("--gap", type=float, default=1.2,
                        help="seconds between writes: the large regime's epoch (1.2)")
    parser.add_argument("--dir", help="where to write (default: the system's temp directory)")
    parser.add_argument("--json", help="write the report here")
    args = parser.parse_args(argv)
    if args.files < 2 or args.repeats < 1 or args.gap < 0:
        parser.error(f"need --files >= 2, --repeats >= 1, --gap >= 0; got {args.files}, "
                     f"{args.repeats}, {args.gap}")
    if args.quick:
        report = run(files=3, size=1 << 20, gap_s=0.0, repeats=1, directory=args.dir)
    else:
        report = run(args.files, CHECKPOINT_BYTES, args.gap, args.repeats, args.dir)
    print("| pattern | median write | rate |\n|---|---|---|")
    for pattern, row in report["summary"].items():
        print(f"| {pattern} | {1000 * row['write_s_median']:.1f} ms "
              f"| {row['mb_per_s']:.0f} MB/s |")
    write_json(args.json, report)
    return report


if __name__ == "__main__":
    main()
