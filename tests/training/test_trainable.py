"""The Ray Tune function trainable, run with real Ray (tiny: digits, setting "500")."""

from __future__ import annotations

import json
import math
from pathlib import Path

import pytest
import torch
from ray import train, tune
from ray.tune.schedulers import PopulationBasedTraining

from tune_gamma.objective import kappa
from tune_gamma.training.data import load_dataset
from tune_gamma.training.loop import evaluate, make_optimizer, to_device, train_one_epoch
from tune_gamma.training.models import build_model
from tune_gamma.training.trainable import (
    CHECKPOINT_FILE,
    METRIC_KEYS,
    TrainSpec,
    _hyperparameters,
    checkpoint_payload,
    epoch_seed,
    load_checkpoint_model,
    make_trainable,
    read_checkpoint,
    start_trial,
    state_payload,
)

SPEC = TrainSpec(data="digits", setting="500", model="mlp6", seed=0)


@pytest.fixture(scope="module")
def splits():
    return load_dataset(SPEC.data, setting=SPEC.setting, seed=SPEC.seed)


def _replay(splits, spec: TrainSpec, lr: float, epochs: int) -> torch.nn.Module:
    """What a fresh trial must compute: seed-built weights, then seeded epochs, 1 thread."""
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        X, y = to_device(*splits.train, "cpu")
        torch.manual_seed(spec.seed)
        model = build_model(spec.model, splits.input_shape, splits.num_classes, spec.dropout)
        optimizer = make_optimizer(spec.optimizer, model.parameters(), lr)
        generator = torch.Generator()
        for epoch in range(epochs):
            seed = epoch_seed(spec.seed, epoch)
            generator.manual_seed(seed)
            torch.manual_seed(seed)
            train_one_epoch(model, optimizer, X, y, spec.batch_size, generator)
        return model
    finally:
        torch.set_num_threads(threads)


def test_run_reports_metrics_and_checkpoints(ray_session, tmp_path: Path, splits) -> None:
    analysis = tune.run(
        make_trainable(SPEC, splits),
        stop={"training_iteration": 2},
        num_samples=2,
        config={"lr": tune.choice([0.05, 0.1])},
        storage_path=str(tmp_path),
        reuse_actors=True,
        verbose=0,
    )
    assert len(analysis.trials) == 2
    for trial in analysis.trials:
        assert trial.status == "TERMINATED"
        result = trial.last_result
        for key in METRIC_KEYS:
            assert isinstance(result[key], (int, float)), key
        assert result["epochs_trained"] == 2
        assert result["lr"] == trial.config["lr"]
        assert 0.0 <= result["accuracy"] <= 1.0 and result["loss"] > 0
        assert result["kappa"] == pytest.approx(kappa(result["accuracy"], result["loss"]))

        checkpoint_file = Path(trial.checkpoint.path) / CHECKPOINT_FILE
        payload = torch.load(checkpoint_file, weights_only=True)
        assert payload["epochs_trained"] == 2
        assert payload["lineage"] == [trial.trial_id]
        assert payload["config"] == trial.config
        json.dumps(payload["config"])
        assert payload["optimizer"]["param_groups"][0]["lr"] == trial.config["lr"]
        assert set(payload) >= {"model", "optimizer", "epochs_trained", "lineage", "config"}

        # Every fresh trial starts from torch.manual_seed(seed)'s weights and seeded epochs:
        # replaying that here must give the checkpoint's weights (so both trials started alike).
        expected = _replay(splits, SPEC, trial.config["lr"], epochs=2).state_dict()
        assert payload["model"].keys() == expected.keys()
        for key, tensor in expected.items():
            torch.testing.assert_close(payload["model"][key], tensor, rtol=1e-6, atol=1e-7)

        # The CLI's helper rebuilds the model and gives the trial's validation numbers back.
        model, loaded = load_checkpoint_model(trial.checkpoint, SPEC, splits)
        assert loaded["lineage"] == payload["lineage"]
        val = evaluate(model, *to_device(*splits.val, "cpu"))
        assert val["accuracy"] == pytest.approx(result["accuracy"])
        assert val["loss"] == pytest.approx(result["loss"], rel=1e-5)


def test_pbt_restores_weights_and_extends_lineage(ray_session, tmp_path: Path, splits) -> None:
    """Ray's PBT clones the better trial's checkpoint into the worse: its lineage grows."""
    pbt = PopulationBasedTraining(
        time_attr="training_iteration",
        perturbation_interval=1,
        hyperparam_mutations={"lr": [0.001, 0.1]},
        quantile_fraction=0.5,
        synch=True,
    )
    analysis = tune.run(
        make_trainable(SPEC, splits),
        scheduler=pbt,
        metric="accuracy",
        mode="max",
        stop={"training_iteration": 2},
        config={"lr": tune.grid_search([1e-4, 0.1])},
        storage_path=str(tmp_path),
        reuse_actors=True,
        verbose=0,
    )
    ids = {trial.trial_id for trial in analysis.trials}
    lineages = []
    for trial in analysis.trials:
        payload = read_checkpoint(trial.checkpoint)
        assert payload["lineage"][-1] == trial.trial_id
        assert set(payload["lineage"]) <= ids
        assert payload["epochs_trained"] == trial.last_result["epochs_trained"]
        # The (possibly mutated) config's lr is what the restored optimizer runs with.
        assert trial.last_result["lr"] == payload["config"]["lr"] == trial.config["lr"]
        assert payload["optimizer"]["param_groups"][0]["lr"] == trial.config["lr"]
        lineages.append(payload["lineage"])
    # The lr=1e-4 trial falls behind and is replaced by a copy of the lr=0.1 trial.
    assert any(len(lineage) >= 2 for lineage in lineages)


def test_missing_lr_fails_the_trial_clearly(ray_session, tmp_path: Path, splits) -> None:
    analysis = tune.run(
        make_trainable(SPEC, splits),
        stop={"training_iteration": 1},
        config={"momentum": 0.9},
        storage_path=str(tmp_path),
        raise_on_failed_trial=False,
        verbose=0,
    )
    (trial,) = analysis.trials
    assert trial.status == "ERROR"
    error = Path(trial.error_file).read_text()
    assert "ValueError" in error and "'lr'" in error


def test_read_checkpoint_accepts_every_form(tmp_path: Path) -> None:
    """ray.tune and ray.train Checkpoints (schedulers hand out either), a directory, a file."""
    torch.manual_seed(0)
    model = build_model("mlp6", (1, 8, 8), 10)
    optimizer = make_optimizer("sgd", model.parameters(), 0.1, momentum=0.9)
    config = {"lr": 0.1, "not_json": object()}
    payload = checkpoint_payload(model, optimizer, 3, ["a", "b"], config, "sgd")
    torch.save(payload, tmp_path / CHECKPOINT_FILE)
    forms = [tune.Checkpoint.from_directory(str(tmp_path)), train.Checkpoint(str(tmp_path)),
             tmp_path, str(tmp_path / CHECKPOINT_FILE)]
    for form in forms:
        loaded = read_checkpoint(form)
        assert loaded["lineage"] == ["a", "b"] and loaded["epochs_trained"] == 3
        assert loaded["config"] == {"lr": 0.1}  # only JSON-able values are kept
        torch.testing.assert_close(loaded["model"], model.state_dict())


@pytest.mark.parametrize("model", ["mlp6", "keras-cnn"])
def test_start_trial_from_a_payload_holds_exactly_its_state(model: str) -> None:
    spec = TrainSpec(model=model, momentum=0.9)
    first = start_trial(spec, {"lr": 0.05}, (1, 8, 8), 10, torch.device("cpu"))
    first.model(torch.randn(4, 1, 8, 8)).sum().backward()
    first.optimizer.step()  # momentum buffers now exist
    payload = state_payload(first, {"lr": 0.05})
    rng_state = torch.get_rng_state()
    state = start_trial(spec, {"lr": 0.02, "momentum": 0.5}, (1, 8, 8), 10,
                        torch.device("cpu"), {k: v for k, v in payload.items()})
    assert torch.equal(torch.get_rng_state(), rng_state)  # built uninitialised: no draws
    for (name, a), b in zip(state.model.state_dict().items(), payload["model"].values(),
                            strict=True):
        assert torch.equal(a, b), name
    loaded = state.optimizer.state_dict()["state"]
    for key, value in payload["optimizer"]["state"].items():
        assert torch.equal(loaded[key]["momentum_buffer"], value["momentum_buffer"])
    group = state.optimizer.param_groups[0]
    assert (group["lr"], group["momentum"]) == (0.02, 0.5)
    assert state.epochs == first.epochs


@pytest.mark.parametrize("lr", [0.0, -0.1, math.nan, "fast"])
def test_bad_lr_raises(lr: object) -> None:
    with pytest.raises(ValueError, match="lr"):
        _hyperparameters({"lr": lr}, SPEC)


def test_config_overrides_spec() -> None:
    hp = _hyperparameters(
        {"lr": 0.2, "momentum": 0.9, "batch_size": 32, "optimizer": "adam", "other": 1}, SPEC
    )
    assert (hp.lr, hp.momentum, hp.batch_size, hp.optimizer) == (0.2, 0.9, 32, "adam")
    assert hp.weight_decay == SPEC.weight_decay


def test_spec_validation() -> None:
    with pytest.raises(ValueError, match="cubic"):
        TrainSpec(kappa_form="cubic")
    with pytest.raises(ValueError, match="batch_size"):
        TrainSpec(batch_size=0)
    assert TrainSpec(kappa_form="none").kappa_form == "none"


def test_epoch_seed_depends_on_both() -> None:
    seeds = {epoch_seed(s, e) for s in range(3) for e in range(3)}
    assert len(seeds) == 9
    assert epoch_seed(1, 2) == epoch_seed(1, 2)
