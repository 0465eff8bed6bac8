"""One per-epoch learning-rate search, end to end, as a Python function.

``run_search(RunOptions(...))`` checks the options, loads the data, runs the rounds on Ray Tune
(``RoundScheduler`` with one of tune_gamma's searchers), evaluates the last winner on the held-out
TEST split and writes ``summary.json``, ``rounds.json`` and the figures into ``options.out``. It
returns the summary as a dict (see ``build_summary``). The command line (``tune-gamma run``) is
a thin layer over it; experiment scripts call it directly::

    from tune_gamma.run import RunOptions, run_search
    summary = run_search(RunOptions(data="digits", rounds=5, searcher="gaussian", quiet=True))
    summary["schedule"], summary["test_accuracy"]

Ray: when Ray is already initialised (a test session, a notebook) it is used as it is and left
running; otherwise ``ray.init`` starts a local instance (or joins ``options.address``) and
``ray.shutdown`` ends it afterwards.

Defaults (measured on scikit-learn's digits, mlp6, 10 rounds of 12, batch 50; see
``DEFAULTS_NOTE``): SGD with momentum 0.9 and weight decay 1e-3, the learning rate searched
log-uniformly in [0.02, 0.1].
"""

from __future__ import annotations

import contextlib
import json
import logging
import math
import os
import time
from collections.abc import Iterator, Sequence
from dataclasses import asdict, dataclass, replace
from datetime import datetime
from pathlib import Path
from typing import Any

import numpy as np

from tune_gamma.json_safe import json_safe
from tune_gamma.training.data import DATASETS, SETTINGS
from tune_gamma.training.memory import worker_env
from tune_gamma.training.models import MODELS

SEARCHERS: tuple[str, ...] = ("gamma", "gaussian", "grid", "random")
LR_SCALES: tuple[str, ...] = ("log", "linear")
KAPPAS: tuple[str, ...] = ("improved", "earlier", "none")
DEFAULT_SAMPLES_PER_ROUND = 12  # the thesis: 2 initial points + 10 BO iterations per epoch
DEFAULT_GRID_POINTS = 100  # the thesis's smallest grid
DEFAULT_LR_MIN, DEFAULT_LR_MAX = 0.02, 0.1
DEFAULT_MOMENTUM = 0.9
DEFAULT_WEIGHT_DECAY = 1e-3  # the thesis's value
METRIC, MODE = "kappa", "max"
SUMMARY_FILE = "summary.json"
ROUNDS_FILE = "rounds.json"
EXPERIMENT_NAME = "experiment"
MAX_DEFAULT_WORKERS = 64

DEFAULTS_NOTE = """\
How the defaults were chosen (digits "full", mlp6, 10 rounds of 12, batch 50, the Gamma BO; the
rounds replayed one trial at a time without Ray, with the trainable's seeding; test accuracy of
the final model over seeds 0-11 unless noted; `make demo` itself, two workers, gave 0.967 for
seed 0 where the replay gave 0.969):
  momentum 0.9, weight decay 1e-3, lr log [0.02, 0.1]   mean 0.969, min 0.955  <- default
  momentum 0.9, weight decay 1e-3, lr log [0.01, 0.1]   mean 0.962, min 0.930
  momentum 0.9, no weight decay,   lr log [0.01, 0.1]   mean 0.958, min 0.933 (seeds 0-5)
  momentum 0.9, no weight decay,   lr log [0.02, 0.1]   mean 0.961, min 0.942 (seeds 0-5)
  momentum 0.9, no weight decay,   lr log [0.01, 0.2]   a whole round can diverge
  momentum 0,   no weight decay,   lr log [1e-3, 0.5]   mean 0.933, min 0.897 (seeds 0-5)
With random instead of BO proposals the thesis's range (0, 0.5] (linear from 1e-4, momentum 0)
gave mean 0.785 (seeds 0-2, one at 0.46). Kappa rewards the lowest validation loss after one
epoch, so from the third round on it favours the smallest rate on offer; the floor of 0.02 keeps
the schedule learning. 1e-3 is the thesis's weight decay."""


class RunError(Exception):
    """A problem the user can fix (bad option, missing data, unwritable output): one line."""


@dataclass
class RunOptions:
    """Everything ``run_search`` needs; the command line's flags map one to one onto fields.

    ``samples_per_round`` None means 12 (the grid size 100 for ``searcher="grid"``);
    ``workers`` None means as many concurrent trials as Ray has CPUs for (``cpus_per_trial``
    each); ``out`` None means ``results/<timestamp>``; ``storage`` None keeps Ray's files in
    ``out``; ``figures`` draws the PNGs into ``out``; ``keep_all_checkpoints`` keeps every
    trial's checkpoint, not only those of round winners (``RoundScheduler``).
    """

    data: str = "digits"
    data_dir: str | None = None
    download: bool = False
    setting: str = "full"
    model: str = "mlp6"
    searcher: str = "gamma"
    rounds: int = 10
    samples_per_round: int | None = None
    workers: int | None = None
    gpus_per_trial: float = 0.0
    cpus_per_trial: float = 1.0
    kappa: str = "improved"
    lam: float = 0.5
    lr_min: float = DEFAULT_LR_MIN
    lr_max: float = DEFAULT_LR_MAX
    lr_scale: str = "log"
    momentum: float = DEFAULT_MOMENTUM
    weight_decay: float = DEFAULT_WEIGHT_DECAY
    batch_size: int = 50
    seed: int = 0
    out: str | None = None
    address: str | None = None
    storage: str | None = None
    quiet: bool = False
    figures: bool = True
    keep_all_checkpoints: bool = False

    @property
    def resolved_samples(self) -> int:
        """Trials per round: the given value, else 100 for grid and 12 otherwise."""
        if self.samples_per_round is not None:
            return self.samples_per_round
        return DEFAULT_GRID_POINTS if self.searcher == "grid" else DEFAULT_SAMPLES_PER_ROUND

    def validate(self) -> None:
        """Raise ``RunError`` naming the first bad option and its value."""
        for name, value, choices in (
            ("data", self.data, DATASETS), ("setting", self.setting, SETTINGS),
            ("model", self.model, MODELS), ("searcher", self.searcher, SEARCHERS),
            ("kappa", self.kappa, KAPPAS), ("lr_scale", self.lr_scale, LR_SCALES),
        ):
            if value not in choices:
                raise RunError(f"unknown {name} {value!r}; choose from {', '.join(choices)}")
        _check_int("rounds", self.rounds, 1)
        _check_int("samples_per_round", self.samples_per_round, 1, optional=True)
        _check_int("workers", self.workers, 1, optional=True)
        _check_int("batch_size", self.batch_size, 1)
        _check_int("seed", self.seed, 0)
        _check_number("gpus_per_trial", self.gpus_per_trial, ">= 0", lambda v: v >= 0)
        if self.gpus_per_trial > 1 and not float(self.gpus_per_trial).is_integer():
            raise RunError(f"gpus_per_trial above 1 must be a whole number (Ray packs fractions "
                           f"only onto one GPU), got {self.gpus_per_trial!r}")
        _check_number("cpus_per_trial", self.cpus_per_trial, "> 0", lambda v: v > 0)
        _check_number("lam", self.lam, "in (0, 1]", lambda v: 0 < v <= 1)
        _check_number("momentum", self.momentum, "in [0, 1)", lambda v: 0 <= v < 1)
        _check_number("weight_decay", self.weight_decay, ">= 0", lambda v: v >= 0)
        _check_number("lr_min", self.lr_min, "> 0", lambda v: v > 0)
        _check_number("lr_max", self.lr_max, "> 0", lambda v: v > 0)
        if self.lr_min >= self.lr_max:
            raise RunError(f"lr_min must be below lr_max, got lr_min={self.lr_min:g} >= "
                           f"lr_max={self.lr_max:g}")


def _check_int(name: str, value: Any, low: int, optional: bool = False) -> None:
    if optional and value is None:
        return
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < low:
        raise RunError(f"{name} must be an integer >= {low}, got {value!r}")


def _check_number(name: str, value: Any, text: str, ok: Any) -> None:
    try:
        number = float(value)
    except (TypeError, ValueError):
        raise RunError(f"{name} must be a number {text}, got {value!r}") from None
    if not (math.isfinite(number) and ok(number)):
        raise RunError(f"{name} must be {text}, got {value!r}")


# ------------------------------------------------------------------------------ pure helpers


def default_out_dir(now: datetime | None = None) -> str:
    """``results/<YYYYmmdd-HHMMSS>`` (results/ is git-ignored)."""
    return os.path.join("results", (now or datetime.now()).strftime("%Y%m%d-%H%M%S"))


def prepare_out_dir(path: str | os.PathLike[str]) -> Path:
    """Create ``path`` (with parents) and check it is writable and holds no earlier run."""
    out = Path(path)
    try:
        out.mkdir(parents=True, exist_ok=True)
        probe = out / ".tune_gamma_write_test"
        probe.write_text("")
        probe.unlink()
    except OSError as exc:
        raise RunError(f"cannot write to --out {str(out)!r}: {exc.strerror or exc}") from None
    if (out / SUMMARY_FILE).exists() or (out / EXPERIMENT_NAME).exists():
        raise RunError(f"--out {str(out)!r} already holds a run; choose another directory")
    return out


def space_record(options: RunOptions) -> list[dict[str, Any]]:
    """The searched box as JSON: ``[{"name", "low", "high", "log"}]``."""
    return [{"name": "lr", "low": float(options.lr_min), "high": float(options.lr_max),
             "log": options.lr_scale == "log"}]


def round_seed(seed: int, round_index: int) -> int:
    """The proposer seed of one round, as ``RoundSearcher._proposer_for`` derives it."""
    return int(np.random.SeedSequence([seed, round_index]).generate_state(1)[0])


def final_model_source(rounds: Sequence[dict[str, Any]]) -> dict[str, Any] | None:
    """The round whose winner is the final model: the last round with a winner, or None.

    When the last round has no winner its start checkpoint, which is the previous winner's
    checkpoint, is the model; walking back to the last winner gives exactly that.
    """
    for record in reversed(rounds):
        if record.get("closed") and record.get("winner"):
            return record
    return None


def _finite_or_none(value: Any) -> float | None:
    try:
        number = float(value)
    except (TypeError, ValueError):
        return None
    return number if math.isfinite(number) else None


def compact_rounds(book: dict[str, Any]) -> list[dict[str, Any]]:
    """One small record per round: winner's lr and validation metrics, trial counts, flat."""
    out = []
    for record in book.get("rounds", []):
        metrics = record.get("winner_metrics") or {}
        config = record.get("winner_config") or {}
        trials = record.get("trials", [])
        out.append({
            "round": record["round"],
            "closed": bool(record.get("closed")),
            "winner": record.get("winner"),
            "lr": _finite_or_none(config.get("lr")),
            "kappa": _finite_or_none(metrics.get(METRIC)),
            "val_accuracy": _finite_or_none(metrics.get("accuracy")),
            "val_loss": _finite_or_none(metrics.get("loss")),
            "flat": bool(record.get("flat")),
            "trials": len(trials),
            "failed": sum(t.get("status") == "error" for t in trials),
            "kappa_floor": sum(_finite_or_none((t.get("metrics") or {}).get(METRIC)) == 0.0
                               for t in trials),
        })
    return out


def build_summary(options: RunOptions, book: dict[str, Any], test: dict[str, Any],
                  *, evaluations: int, wall_seconds: float, search_seconds: float,
                  experiment_path: str, workers: int) -> dict[str, Any]:
    """The JSON summary of a finished run (pure: no Ray, no torch).

    ``book`` is the round book's dict (``rounds.json``); ``test`` holds the final model's
    "accuracy", "loss", "sensitivity", "specificity", "mcc", "confusion_matrix" on the test
    split. Validation metrics and kappa are the final model's (its round winner's).
    """
    rounds = compact_rounds(book)
    source = final_model_source(book.get("rounds", []))
    final = next((r for r in rounds if source and r["round"] == source["round"]), None)
    resolved = replace(options, samples_per_round=options.resolved_samples, workers=workers)
    return {
        "schedule": [r["lr"] if r["winner"] else None for r in rounds if r["closed"]],
        "val_accuracy": final["val_accuracy"] if final else None,
        "val_loss": final["val_loss"] if final else None,
        "kappa": final["kappa"] if final else None,
        "test_accuracy": test["accuracy"],
        "test_loss": _finite_or_none(test["loss"]),
        "sensitivity": test["sensitivity"],
        "specificity": test["specificity"],
        "mcc": test["mcc"],
        "confusion_matrix": test["confusion_matrix"],
        "evaluations": int(evaluations),
        "wall_seconds": float(wall_seconds),
        "search_seconds": float(search_seconds),
        "flat_rounds": int(book.get("flat_rounds", 0)),
        "rounds_closed": sum(r["closed"] for r in rounds),
        "final_round": source["round"] if source else None,
        "final_trial": source["winner"] if source else None,
        "experiment_path": experiment_path,
        "tensorboard": f"tensorboard --logdir {experiment_path}",
        "rounds_json": ROUNDS_FILE,
        "metric": METRIC,
        "mode": MODE,
        "searcher": options.searcher,
        "seed": options.seed,
        "space": space_record(options),
        "options": asdict(resolved),
        "rounds": rounds,
    }


def write_json(path: Path, payload: dict[str, Any]) -> Path:
    """Strict JSON (NaN/inf as null), written atomically."""
    tmp = path.with_name(f".{path.name}.tmp")
    tmp.write_text(json.dumps(json_safe(payload), indent=1, allow_nan=False))
    os.replace(tmp, path)
    return path


# ------------------------------------------------------------------------------ the run


def run_search(options: RunOptions, *, callbacks: Sequence[Any] = ()) -> dict[str, Any]:
    """Run the search described by ``options``; return the summary (also in ``summary.json``).

    ``callbacks`` are extra ``ray.tune.Callback`` objects for ``tune.run``.

    Raises:
        RunError: a bad option, missing data files, an unwritable ``out``, no GPU for
            ``gpus_per_trial`` on a local run, an unreachable ``address``; all but the last two
            before Ray starts.
        RoundFailedError: every trial of a round failed (raised by the scheduler).
    """
    started = time.perf_counter()
    options.validate()
    options = replace(options, out=options.out or default_out_dir())
    _check_gpus_available(options, before_ray=True)
    existed = Path(options.out).exists()
    out = prepare_out_dir(options.out)
    try:
        splits = load_splits(options)
    except RunError:
        if not existed:
            out.rmdir()  # leave no empty directory behind
        raise
    started_ray = _start_ray(options)
    _quiet_restore_warnings()
    import ray

    try:
        _check_gpus_available(options)
        workers = options.workers or default_workers(options.cpus_per_trial)
        search_started = time.perf_counter()
        analysis, book = _run_tune(options, splits, out, workers, callbacks, started)
        search_seconds = time.perf_counter() - search_started
        trials = {t.trial_id: t for t in analysis.trials}
        test = evaluate_final(book, trials, train_spec(options), splits)
    finally:
        if started_ray:
            ray.shutdown()
    summary = build_summary(
        options, book, test, evaluations=len(analysis.trials),
        wall_seconds=time.perf_counter() - started, search_seconds=search_seconds,
        experiment_path=experiment_uri(options, out), workers=workers)
    write_json(out / SUMMARY_FILE, summary)
    if options.figures:
        from tune_gamma.report import write_figures

        write_figures(summary, book, out)
    return summary


def train_spec(options: RunOptions) -> Any:
    """The ``TrainSpec`` of the run (everything but the searched learning rate)."""
    from tune_gamma.training.trainable import TrainSpec

    return TrainSpec(data=options.data, data_dir=options.data_dir, setting=options.setting,
                     model=options.model, seed=options.seed, batch_size=options.batch_size,
                     momentum=options.momentum, weight_decay=options.weight_decay,
                     kappa_form=options.kappa, lam=options.lam)


def param_space(options: RunOptions) -> dict[str, Any]:
    """Ray's config: ``{"lr": tune.loguniform(lr_min, lr_max)}`` (or ``tune.uniform``)."""
    from ray import tune

    domain = tune.loguniform if options.lr_scale == "log" else tune.uniform
    return {"lr": domain(options.lr_min, options.lr_max)}


def make_searcher(name: str, *, samples_per_round: int, seed: int, space: Any = None,
                  metric: str = METRIC, mode: str = MODE) -> Any:
    """One of tune_gamma's round searchers by its command-line name."""
    from tune_gamma.tune import searchers

    if name == "grid":
        return searchers.GridSearcher(space, metric, mode, points=samples_per_round, seed=seed)
    classes = {"gamma": searchers.GammaSearcher, "gaussian": searchers.GaussianSearcher,
               "random": searchers.RandomSearcher}
    return classes[name](space, metric, mode, samples_per_round=samples_per_round, seed=seed)


def load_splits(options: RunOptions) -> Any:
    """The data set's splits; a missing file or absent torchvision becomes a ``RunError``."""
    from tune_gamma.training.data import load_dataset

    try:
        return load_dataset(options.data, options.data_dir, options.setting, options.seed,
                            download=options.download)
    except (OSError, ImportError, ValueError) as exc:
        raise RunError(str(exc)) from None


def _start_ray(options: RunOptions) -> bool:
    """``ray.init`` unless Ray is already up; True when this call started (or joined) it."""
    import ray

    if ray.is_initialized():
        return False
    # Ray's workers start with MALLOC_ARENA_MAX=1 (see tune_gamma.training.memory)
    quiet = {"logging_level": logging.WARNING, "log_to_driver": False,
             "runtime_env": {"env_vars": worker_env()}}
    # RAY_ADDRESS is what `ray job submit` sets for its entrypoint: join that cluster too.
    address = options.address or os.environ.get("RAY_ADDRESS")
    if address:
        try:
            ray.init(address=address, **quiet)
        except (ConnectionError, RuntimeError, ValueError) as exc:
            first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
            raise RunError(f"cannot join the Ray cluster at {address!r}: {first}") from None
        return True
    # Ray 2.60 turns token authentication on for a new local instance and warns about it;
    # the instance is ours and ends with the run, so the warning is noise here.
    logging.getLogger("ray._private.authentication").setLevel(logging.ERROR)
    # address="local": a new instance even if another one's address is lying around (a
    # leftover ray_current_cluster file or RAY_ADDRESS would make ray.init join, or fail).
    ray.init(address="local", num_cpus=os.cpu_count() or 1, include_dashboard=False, **quiet)
    return True


class _RestoreNoise(logging.Filter):
    """Drops Tune's "Remote file not found" warnings: a trial that starts from the previous
    round's winner has a checkpoint, so Tune's loggers look for its (non-existent) earlier
    result files, two warnings per trial."""

    def filter(self, record: logging.LogRecord) -> bool:
        return not str(record.msg).startswith("Remote file not found")


def _quiet_restore_warnings() -> None:
    target = logging.getLogger("ray.tune.logger.logger")
    if not any(isinstance(f, _RestoreNoise) for f in target.filters):
        target.addFilter(_RestoreNoise())


def _check_gpus_available(options: RunOptions, before_ray: bool = False) -> None:
    """On a local instance a trial asking for more GPUs than exist would wait for ever.

    ``before_ray``: count the GPUs with torch (what a new local Ray would find), else ask Ray.
    """
    import ray

    if options.gpus_per_trial <= 0 or options.address or os.environ.get("RAY_ADDRESS"):
        return
    if before_ray:
        if ray.is_initialized():
            return
        import torch

        have = float(torch.cuda.device_count())
    else:
        have = float(ray.cluster_resources().get("GPU", 0.0))
    if have < options.gpus_per_trial:
        raise RunError(f"gpus_per_trial is {options.gpus_per_trial:g} but the local Ray "
                       f"instance has {have:g} GPUs; use 0, or --address to join a GPU cluster")


def default_workers(cpus_per_trial: float) -> int:
    """As many concurrent trials as the Ray cluster's CPUs allow (at least 1)."""
    import ray

    cpus = float(ray.cluster_resources().get("CPU", 1.0))
    return int(max(1, min(MAX_DEFAULT_WORKERS, cpus // cpus_per_trial)))


def _storage(options: RunOptions, out: Path) -> tuple[str, str]:
    """``(storage_path, experiment name)``: inside ``out`` unless ``--storage`` is given."""
    if options.storage is None:
        return str(out.resolve()), EXPERIMENT_NAME
    storage = options.storage
    if "://" not in storage:
        storage = str(Path(storage).expanduser().resolve())
    return storage, f"tune_gamma-{out.resolve().name}"


def trial_loggers() -> list[Any]:
    """Tune's per-trial result files that a run keeps: ``result.json`` and ``progress.csv``.

    Not Tune's per-trial TensorBoard logger: every trial here trains one epoch, so each of its
    event files would hold a single point (hundreds of one-point runs in TensorBoard) and it
    is the dearest of the three (a writer thread and an event file per trial). The curves that
    mean something, one step per round, go to ``<experiment>/rounds/`` (``RoundScheduler``).
    """
    from ray.tune.logger import CSVLoggerCallback, JsonLoggerCallback

    return [JsonLoggerCallback(), CSVLoggerCallback()]


@contextlib.contextmanager
def tune_environment() -> Iterator[None]:
    """The environment ``tune.run`` sees during a run, restored afterwards:

    * ``RAY_AIR_NEW_OUTPUT=0``: Ray's new console output prints an experiment banner (with a
      misleading TensorBoard path) even at verbose=0; its classic output prints nothing;
    * ``TUNE_DISABLE_AUTO_CALLBACK_LOGGERS=1``: Tune adds none of its default loggers; the run
      passes its own (:func:`trial_loggers`).
    """
    settings = {"RAY_AIR_NEW_OUTPUT": "0", "TUNE_DISABLE_AUTO_CALLBACK_LOGGERS": "1"}
    previous = {key: os.environ.get(key) for key in settings}
    os.environ.update(settings)
    try:
        yield
    finally:
        for key, value in previous.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value


def experiment_uri(options: RunOptions, out: Path) -> str:
    """Where Tune puts the experiment: a local path, or ``s3://...`` (Ray's own
    ``experiment_path`` drops a cloud URI's scheme)."""
    storage, name = _storage(options, out)
    if "://" in storage:
        return f"{storage.rstrip('/')}/{name}"
    return str(Path(storage, name))


def _trial_dirname(trial: Any) -> str:
    """Short trial directory names (the default includes the whole config)."""
    return str(trial.trial_id)


def _run_tune(options: RunOptions, splits: Any, out: Path, workers: int,
              callbacks: Sequence[Any], started: float) -> tuple[Any, dict[str, Any]]:
    """``tune.run`` with the round scheduler; returns (analysis, round book dict)."""
    from ray import tune

    from tune_gamma.progress import RoundProgress
    from tune_gamma.training.trainable import make_trainable
    from tune_gamma.tune.records import write_rounds_json
    from tune_gamma.tune.scheduler import RoundScheduler

    scheduler = RoundScheduler(rounds=options.rounds,
                               keep_losing_checkpoints=options.keep_all_checkpoints)
    searcher = make_searcher(options.searcher, samples_per_round=options.resolved_samples,
                             seed=options.seed)
    storage, name = _storage(options, out)
    extra = [] if options.quiet else [RoundProgress(scheduler, started=started)]
    with tune_environment():
        analysis = tune.run(
            make_trainable(train_spec(options), splits), config=param_space(options),
            search_alg=searcher, scheduler=scheduler, metric=METRIC, mode=MODE, num_samples=-1,
            reuse_actors=True, max_concurrent_trials=workers,
            resources_per_trial={"cpu": options.cpus_per_trial, "gpu": options.gpus_per_trial},
            storage_path=storage, name=name, verbose=0, raise_on_failed_trial=False,
            callbacks=[*trial_loggers(), *extra, *callbacks],
            trial_dirname_creator=_trial_dirname)
    if scheduler.book is None:
        raise RunError("Ray Tune ran no trial; see the Ray logs")
    write_rounds_json(scheduler.book, str(out))
    return analysis, json.loads((out / ROUNDS_FILE).read_text())


def evaluate_final(book: dict[str, Any], trials: dict[str, Any], spec: Any,
                   splits: Any) -> dict[str, Any]:
    """Test-split metrics and confusion matrix of the final model (the last winner's weights;
    the untrained initial model if no round ever had a winner)."""
    import torch

    from tune_gamma.metrics import confusion_matrix
    from tune_gamma.training.loop import evaluate, to_device
    from tune_gamma.training.models import build_model
    from tune_gamma.training.trainable import load_checkpoint_model, resolve_device

    device = resolve_device(spec.device)
    source = final_model_source(book.get("rounds", []))
    if source is None:
        torch.manual_seed(spec.seed)
        model = build_model(spec.model, splits.input_shape, splits.num_classes, spec.dropout)
        model.to(device).eval()
    else:
        winner = source["winner"]
        checkpoint = getattr(trials.get(winner), "checkpoint", None)
        if checkpoint is not None:  # a Checkpoint (local or cloud storage): fetch its files
            with checkpoint.as_directory() as directory:
                model, _ = load_checkpoint_model(directory, spec, splits, device)
        else:
            path = next(t["checkpoint"] for t in source["trials"] if t["trial_id"] == winner)
            model, _ = load_checkpoint_model(path, spec, splits, device)
    X, y = to_device(*splits.test, device)
    result = evaluate(model, X, y, return_predictions=True)
    cm = confusion_matrix(splits.test[1], result.pop("predictions"), splits.num_classes)
    return {**result, "confusion_matrix": cm.tolist()}
