"""Where the round winners' learning rates sit in the search range (short-horizon bias).

Reads the JSON of ``benchmark_peers.py`` and, for each round contender, prints where each
round's winning rate lies on the log scale of ``[lr_min, lr_max]`` (0 = the lower bound,
1 = the upper): the mean position over all rounds, over the last half of the rounds, and the
share of winners in the lowest tenth of the range. A greedy round picks the rate that scores
best after ONE more epoch; such one-step choices favour small rates that help at once over
larger ones that pay off later (Wu, Ren, Liao & Grosse, "Understanding short-horizon bias in
stochastic meta-optimization", ICLR 2018). The better a searcher optimises the one-epoch
score, the more it should show the bias. Whether the lean costs accuracy is another question:
``winner_rules.py`` hands on larger rates instead and finds that it does not (README).

    python experiments/schedule_bias.py experiments/results/peers_500_demo.json [more.json ...]
"""

from __future__ import annotations

import argparse
import json
import math
from collections.abc import Sequence
from pathlib import Path
from typing import Any

ROUND_CONTENDERS = ("gamma", "gaussian", "random", "grid100")
FLOOR_SHARE = 0.1  # "at the floor": in the lowest tenth of the log range


def positions(schedule: Sequence[float | None], lr_min: float, lr_max: float) -> list[float]:
    """Each winning rate's position in [0, 1] on the log scale of the range (None skipped)."""
    span = math.log(lr_max / lr_min)
    return [math.log(lr / lr_min) / span for lr in schedule if lr]


def summarise(payload: dict[str, Any]) -> dict[str, dict[str, float]]:
    """``{contender: {"rounds", "mean_position", "late_mean_position", "floor_share"}}``."""
    task = payload["task"]
    out: dict[str, dict[str, float]] = {}
    for name in ROUND_CONTENDERS:
        contender = payload["contenders"].get(name)
        if not contender:
            continue
        every: list[float] = []
        late: list[float] = []
        for run in contender["runs"]:
            schedule = run.get("schedule") or []
            every += positions(schedule, task["lr_min"], task["lr_max"])
            late += positions(schedule[len(schedule) // 2:], task["lr_min"], task["lr_max"])
        if every:
            out[name] = {"rounds": float(len(every)),
                         "mean_position": sum(every) / len(every),
                         "late_mean_position": sum(late) / len(late) if late else math.nan,
                         "floor_share": sum(p < FLOOR_SHARE for p in every) / len(every)}
    return out


def markdown(path: str, payload: dict[str, Any]) -> str:
    task = payload["task"]
    lines = [f"{path}: {task['setting']} / {task['network']}, lr log-uniform in "
             f"[{task['lr_min']:g}, {task['lr_max']:g}]", "",
             "| contender | rounds | mean position | last half | winners in lowest tenth |",
             "|---|---|---|---|---|"]
    for name, s in summarise(payload).items():
        lines.append(f"| {name} | {s['rounds']:.0f} | {s['mean_position']:.2f} | "
                     f"{s['late_mean_position']:.2f} | {100 * s['floor_share']:.0f} % |")
    return "\n".join(lines)


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("results", nargs="+", help="JSON files written by benchmark_peers.py")
    args = parser.parse_args(argv)
    for path in args.results:
        print(markdown(path, json.loads(Path(path).read_text())))
        print()


if __name__ == "__main__":
    main()
