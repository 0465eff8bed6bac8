"""The tune-gamma command: one tiny run end to end on a real Ray, and every usage error."""

from __future__ import annotations

import json
import math
import subprocess
import sys
from pathlib import Path

import pytest
from matplotlib.image import imread

from tune_gamma.cli import build_parser, main, options_from_args

SUMMARY_KEYS = ("schedule", "val_accuracy", "test_accuracy", "test_loss", "sensitivity",
                "specificity", "mcc", "kappa", "evaluations", "wall_seconds", "flat_rounds",
                "experiment_path", "options", "rounds")


def _pngs(directory: Path) -> list[str]:
    return sorted(p.name for p in directory.glob("*.png"))


@pytest.mark.usefixtures("ray_session")
def test_run_then_report_end_to_end(tmp_path, capsys):
    out = tmp_path / "out"
    code = main(["run", "--setting", "500", "--rounds", "2", "--samples-per-round", "3",
                 "--out", str(out), "--seed", "1"])
    printed = capsys.readouterr()
    assert code == 0, printed.err
    assert "round 1/2" in printed.out and "round 2/2" in printed.out  # progress lines
    assert "learning rate" in printed.out and "TEST split" in printed.out
    assert "tensorboard --logdir" in printed.out

    summary = json.loads((out / "summary.json").read_text())
    for key in SUMMARY_KEYS:
        assert key in summary, key
    assert len(summary["schedule"]) == 2
    assert all(0.02 <= lr <= 0.1 for lr in summary["schedule"])
    assert summary["evaluations"] == 6 and summary["wall_seconds"] > 0
    for key in ("val_accuracy", "test_accuracy", "sensitivity", "specificity"):
        assert 0.5 < summary[key] <= 1.0, key  # two epochs on digits already learn a lot
    assert -1 <= summary["mcc"] <= 1 and math.isfinite(summary["test_loss"])
    assert summary["kappa"] >= 0  # kappa may still sit on its floor after two epochs
    assert sum(map(sum, summary["confusion_matrix"])) == 1297  # digits' test split in "500"
    assert Path(summary["experiment_path"], "rounds.json").is_file()
    assert (out / "rounds.json").is_file()
    # Each trial keeps Tune's result.json and progress.csv but no one-point TensorBoard file;
    # TensorBoard's curves are the round-level ones.
    experiment = Path(summary["experiment_path"])
    book = json.loads((out / "rounds.json").read_text())
    trial_dirs = [t["trial_id"] for r in book["rounds"] for t in r["trials"]]
    assert len(trial_dirs) == 6
    for trial_id in trial_dirs:
        files = {p.name for p in (experiment / trial_id).iterdir()}
        assert {"result.json", "progress.csv"} <= files, files
        assert not any(name.startswith("events.out.tfevents") for name in files), files
    assert list((experiment / "rounds").glob("events.out.tfevents*"))
    # Only the round winners' checkpoints stay on disk.
    kept = sorted(p.parent.name for p in experiment.glob("*/checkpoint_*"))
    assert kept == sorted(r["winner"] for r in book["rounds"])

    expected = ["confusion_matrix.png", "round_01.png", "round_02.png", "schedule.png"]
    assert _pngs(out) == expected
    for name in expected:
        assert imread(out / name).ndim == 3

    for name in expected:
        (out / name).unlink()
    assert main(["report", str(out)]) == 0
    assert "learning rate" in capsys.readouterr().out
    assert _pngs(out) == expected


@pytest.mark.parametrize(("args", "needle"), [
    (["run", "--data", "imagenet"], "'imagenet'"),
    (["run", "--rounds", "0"], "rounds must be an integer >= 1, got 0"),
    (["run", "--rounds", "-3"], "got -3"),
    (["run", "--samples-per-round", "0"], "samples_per_round must be an integer >= 1, got 0"),
    (["run", "--workers", "0"], "workers must be an integer >= 1, got 0"),
    (["run", "--gpus-per-trial", "-1"], "gpus_per_trial must be >= 0, got -1.0"),
    (["run", "--gpus-per-trial", "1.5"], "got 1.5"),
    (["run", "--lr-min", "0.5", "--lr-max", "0.1"], "lr_min=0.5 >= lr_max=0.1"),
    (["run", "--lr-min", "0"], "lr_min must be > 0, got 0.0"),
    (["run", "--lam", "0"], "lam must be in (0, 1], got 0.0"),
    (["run", "--lam", "1.5"], "lam must be in (0, 1], got 1.5"),
    (["run", "--rounds", "two"], "invalid int value: 'two'"),
    (["run", "--searcher", "tpe"], "'tpe'"),
    (["run", "--bogus"], "unrecognized arguments: --bogus"),
    ([], "required"),
])
def test_usage_errors_are_one_line_and_exit_2(args, needle, capsys):
    assert main(args) == 2
    err = capsys.readouterr().err
    assert err.startswith("tune-gamma: error: ") and err.count("\n") == 1, err
    assert needle in err


def test_missing_data_files_name_them(tmp_path, capsys):
    args = ["run", "--data", "mnist", "--data-dir", str(tmp_path), "--out", str(tmp_path / "o")]
    assert main(args) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "train-images-idx3-ubyte" in err and str(tmp_path) in err
    assert not (tmp_path / "o").exists()


def test_unwritable_out_is_refused(tmp_path, capsys):
    blocker = tmp_path / "file"
    blocker.write_text("")
    assert main(["run", "--out", str(blocker / "out")]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "cannot write to --out" in err and str(blocker) in err


def test_out_holding_a_run_is_refused(tmp_path, capsys):
    (tmp_path / "summary.json").write_text("{}")
    assert main(["run", "--out", str(tmp_path)]) == 2
    assert "already holds a run" in capsys.readouterr().err


def test_report_without_summary(tmp_path, capsys):
    assert main(["report", str(tmp_path)]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "no summary.json" in err and str(tmp_path) in err


def test_keep_all_checkpoints_flag_reaches_the_options():
    parser = build_parser()
    assert not options_from_args(parser.parse_args(["run"])).keep_all_checkpoints
    assert options_from_args(parser.parse_args(["run", "--keep-all-checkpoints"])) \
        .keep_all_checkpoints


def test_help_exits_0(capsys):
    assert main(["run", "--help"]) == 0
    assert "--samples-per-round" in capsys.readouterr().out


def test_module_entry_point_prints_no_traceback():
    proc = subprocess.run([sys.executable, "-m", "tune_gamma", "run", "--rounds", "0"],
                          capture_output=True, text=True, timeout=120)
    assert proc.returncode == 2
    assert proc.stderr == "tune-gamma: error: rounds must be an integer >= 1, got 0\n"
    assert "Traceback" not in proc.stderr


def test_progress_line_shows_round_rate_kappa_best_and_time():
    from tune_gamma.progress import format_round_line

    record = {"round": 2, "winner": "t1", "winner_config": {"lr": 0.0234},
              "winner_metrics": {"kappa": 3.21, "accuracy": 0.95, "loss": 0.12}, "flat": True,
              "trials": [{"status": "done"}, {"status": "error"}]}
    line = format_round_line(record, 10, 3.5, 12.34)
    for part in ("round  3/10", "lr 0.0234", "kappa 3.2100 (best 3.5000)", "val acc 0.9500",
                 "flat", "2 trials, 1 failed", "elapsed   12.3s"):
        assert part in line, part
    assert "no winner" in format_round_line({"round": 0, "winner": None, "trials": []}, 2,
                                            None, 1.0)


def test_gpus_asked_for_on_a_machine_without_them(tmp_path, capsys):
    import torch

    if torch.cuda.is_available():
        pytest.skip("this machine has a GPU")
    assert main(["run", "--gpus-per-trial", "0.25", "--out", str(tmp_path / "o")]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "gpus_per_trial is 0.25" in err


def test_experiment_location_follows_storage(tmp_path):
    from tune_gamma.run import RunOptions, experiment_uri

    out = tmp_path / "run1"
    assert experiment_uri(RunOptions(), out) == str(out.resolve() / "experiment")
    assert experiment_uri(RunOptions(storage="s3://bucket/tg/"), out) == \
        "s3://bucket/tg/tune_gamma-run1"
    assert experiment_uri(RunOptions(storage=str(tmp_path / "shared")), out) == \
        str(tmp_path / "shared" / "tune_gamma-run1")
