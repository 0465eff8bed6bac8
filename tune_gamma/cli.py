"""The ``tune-gamma`` command: ``run`` a per-epoch learning-rate search, ``report`` on one.

Every usage problem ends the command at once with one line on stderr,
``tune-gamma: error: ...``, and exit status 2 (no traceback); a run that fails while it runs
(every trial of a round failed) exits with 1.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from typing import NoReturn

from tune_gamma import __version__
from tune_gamma.run import (
    DEFAULT_GRID_POINTS,
    DEFAULT_SAMPLES_PER_ROUND,
    KAPPAS,
    LR_SCALES,
    SEARCHERS,
    RunError,
    RunOptions,
)
from tune_gamma.training.data import DATASETS, SETTINGS
from tune_gamma.training.models import MODELS

PROG = "tune-gamma"
USAGE_ERROR, RUN_FAILED, INTERRUPTED = 2, 1, 130

DESCRIPTION = """\
Tune a network's learning rate epoch by epoch on Ray Tune. Each epoch is a round: N copies start
from the same weights, each trains one epoch with its own learning rate, the best by kappa
(validation accuracy and loss) carries on. Bayesian optimisation with a Gamma-precision
(Student-t) GP proposes each round's rates."""

RUN_EPILOG = """\
defaults (digits, mlp6, 10 rounds x 12): SGD with momentum 0.9 and weight decay 1e-3, lr searched
log-uniformly in [0.02, 0.1]: test accuracy 0.955-0.981 over seeds 0-11 (mean 0.969, rounds
replayed without Ray); the measurements are in tune_gamma.run.DEFAULTS_NOTE.
Writes summary.json, rounds.json, schedule.png, round_XX.png and confusion_matrix.png to --out,
and Ray Tune's files (TensorBoard included) to --storage or <out>/experiment.
example on a cluster: tune-gamma run --data mnist --data-dir /home/ubuntu/data --address auto
  --storage s3://BUCKET/tune_gamma --gpus-per-trial 0.25 --workers 8"""


class UsageError(Exception):
    """A command-line mistake; ``main`` prints it as one line."""


class _Parser(argparse.ArgumentParser):
    """argparse, but a mistake raises ``UsageError`` instead of printing usage and exiting."""

    def error(self, message: str) -> NoReturn:
        raise UsageError(message)


def build_parser() -> argparse.ArgumentParser:
    """The parser of ``tune-gamma`` with its ``run`` and ``report`` commands."""
    parser = _Parser(prog=PROG, description=DESCRIPTION)
    parser.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    commands = parser.add_subparsers(dest="command", metavar="{run,report}", required=True)
    _add_run(commands.add_parser(
        "run", help="run a search", description=DESCRIPTION, epilog=RUN_EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter))
    report = commands.add_parser(
        "report", help="re-print the table and re-draw the figures of a finished run",
        description="Re-print the schedule and test metrics of a finished run and re-draw its "
                    "figures from DIR/summary.json and rounds.json (no Ray, no training).")
    report.add_argument("directory", metavar="DIR", help="the --out directory of a run")
    return parser


def _add_run(p: argparse.ArgumentParser) -> None:
    d = RunOptions()
    data = p.add_argument_group("data and model")
    data.add_argument("--data", choices=DATASETS, default=d.data, help="data set (%(default)s)")
    data.add_argument("--data-dir", metavar="DIR",
                      help="where the mnist/cifar10 files are ($TUNE_GAMMA_DATA_DIR or ./data)")
    data.add_argument("--download", action="store_true",
                      help="fetch mnist/cifar10 into --data-dir (needs torchvision)")
    data.add_argument("--setting", choices=SETTINGS, default=d.setting,
                      help="full split, or the thesis's 500 images (%(default)s)")
    data.add_argument("--model", choices=MODELS, default=d.model, help="network (%(default)s)")
    search = p.add_argument_group("search")
    search.add_argument("--searcher", choices=SEARCHERS, default=d.searcher,
                        help="proposal strategy per round (%(default)s)")
    search.add_argument("--rounds", type=int, default=d.rounds, metavar="R",
                        help="rounds = epochs (%(default)s)")
    search.add_argument("--samples-per-round", type=int, metavar="N",
                        help=f"trials per round ({DEFAULT_SAMPLES_PER_ROUND}; the grid size for "
                             f"--searcher grid, {DEFAULT_GRID_POINTS})")
    search.add_argument("--kappa", choices=KAPPAS, default=d.kappa,
                        help="objective: thesis eq. 12, eq. 11, or plain accuracy (%(default)s)")
    search.add_argument("--lam", type=float, default=d.lam, metavar="L",
                        help="kappa's lambda in (0, 1] (%(default)s)")
    search.add_argument("--lr-min", type=float, default=d.lr_min, metavar="LR",
                        help="lowest learning rate (%(default)s)")
    search.add_argument("--lr-max", type=float, default=d.lr_max, metavar="LR",
                        help="highest learning rate (%(default)s)")
    search.add_argument("--lr-scale", choices=LR_SCALES, default=d.lr_scale,
                        help="search the learning rate on this scale (%(default)s)")
    search.add_argument("--seed", type=int, default=d.seed, metavar="S",
                        help="seed of data split, weights and search (%(default)s)")
    train = p.add_argument_group("training")
    train.add_argument("--momentum", type=float, default=d.momentum, metavar="M",
                       help="SGD momentum (%(default)s)")
    train.add_argument("--weight-decay", type=float, default=d.weight_decay, metavar="WD",
                       help="SGD weight decay (%(default)s, the thesis's)")
    train.add_argument("--batch-size", type=int, default=d.batch_size, metavar="B",
                       help="mini-batch size (%(default)s)")
    ray = p.add_argument_group("Ray and output")
    ray.add_argument("--workers", type=int, metavar="K",
                     help="concurrent trials (default: as many as Ray has CPUs for)")
    ray.add_argument("--gpus-per-trial", type=float, default=d.gpus_per_trial, metavar="G",
                     help="GPUs per trial; 0.25 packs 4 trials on a GPU (%(default)s)")
    ray.add_argument("--cpus-per-trial", type=float, default=d.cpus_per_trial, metavar="C",
                     help="CPUs per trial (%(default)s)")
    ray.add_argument("--address", metavar="ADDR",
                     help="join a running Ray cluster ('auto' on its head) instead of starting "
                          "a local Ray")
    ray.add_argument("--storage", metavar="PATH_OR_URI",
                     help="Ray Tune storage_path: a shared directory or s3://... "
                          "(default: inside --out)")
    ray.add_argument("--out", metavar="DIR",
                     help="output directory, not one holding an earlier run (default: "
                          "results/<timestamp>)")
    ray.add_argument("--keep-all-checkpoints", action="store_true",
                     help="keep every trial's checkpoint (default: only the round winners')")
    ray.add_argument("--quiet", action="store_true", help="no per-round progress lines")


def options_from_args(args: argparse.Namespace) -> RunOptions:
    """The ``RunOptions`` of parsed ``run`` arguments."""
    return RunOptions(
        data=args.data, data_dir=args.data_dir, download=args.download, setting=args.setting,
        model=args.model, searcher=args.searcher, rounds=args.rounds,
        samples_per_round=args.samples_per_round, workers=args.workers,
        gpus_per_trial=args.gpus_per_trial, cpus_per_trial=args.cpus_per_trial,
        kappa=args.kappa, lam=args.lam, lr_min=args.lr_min, lr_max=args.lr_max,
        lr_scale=args.lr_scale, momentum=args.momentum, weight_decay=args.weight_decay,
        batch_size=args.batch_size, seed=args.seed, out=args.out, address=args.address,
        storage=args.storage, quiet=args.quiet, keep_all_checkpoints=args.keep_all_checkpoints)


def _fail(message: str, code: int = USAGE_ERROR) -> int:
    line = " ".join(str(message).split())  # one line, whatever the message holds
    print(f"{PROG}: error: {line}", file=sys.stderr)
    return code


def _cmd_run(args: argparse.Namespace) -> int:
    from tune_gamma.report import format_report
    from tune_gamma.rounds import RoundFailedError
    from tune_gamma.run import run_search

    options = options_from_args(args)
    options.validate()  # before anything heavy is imported
    if not options.quiet:
        print(f"{PROG}: {options.searcher} search, {options.rounds} rounds x "
              f"{options.resolved_samples} samples, {options.data} ({options.setting}), "
              f"{options.model}; lr {options.lr_scale} [{options.lr_min:g}, "
              f"{options.lr_max:g}], SGD momentum {options.momentum:g}, weight decay "
              f"{options.weight_decay:g}", flush=True)
    try:
        summary = run_search(options)
    except Exception as exc:
        failure = _round_failure(exc, RoundFailedError)
        if failure is None:
            raise
        return _fail(str(failure), RUN_FAILED)
    print()
    print(format_report(summary, summary["options"]["out"]))
    return 0


def _round_failure(exc: BaseException, kind: type[BaseException]) -> BaseException | None:
    """The ``RoundFailedError`` in ``exc``'s chain (Tune may wrap it), or None."""
    seen: set[int] = set()
    node: BaseException | None = exc
    while node is not None and id(node) not in seen:
        if isinstance(node, kind):
            return node
        seen.add(id(node))
        node = node.__cause__ or node.__context__
    return exc if "trials failed, so there is no model" in str(exc) else None


def _cmd_report(args: argparse.Namespace) -> int:
    from tune_gamma.report import render

    text, figures = render(args.directory)
    print(text)
    print(f"Figures:     {len(figures)} PNG files re-drawn in {args.directory}")
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of ``tune-gamma`` and ``python -m tune_gamma``; returns the exit status."""
    from tune_gamma.report import ReportError

    try:
        args = build_parser().parse_args(argv)
        if args.command == "run":
            return _cmd_run(args)
        return _cmd_report(args)
    except UsageError as exc:
        return _fail(f"{exc} (see '{PROG} --help')")
    except (RunError, ReportError) as exc:
        return _fail(str(exc))
    except SystemExit as exc:  # --help and --version
        return int(exc.code or 0) if not isinstance(exc.code, str) else _fail(exc.code)
    except KeyboardInterrupt:
        print(f"{PROG}: interrupted", file=sys.stderr)
        return INTERRUPTED
