"""Training loop: learning on digits, seeded determinism, divergence, optimizers by name."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch
from torch import nn

from tune_gamma.metrics import classification_report
from tune_gamma.training.data import load_dataset
from tune_gamma.training.loop import (
    evaluate,
    make_optimizer,
    set_hyperparameters,
    to_device,
    train_one_epoch,
)
from tune_gamma.training.models import build_model


@pytest.fixture(autouse=True, scope="module")
def one_thread():
    """One torch thread, as the trainable uses on CPU (fast for these nets, robust under load)."""
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)


@pytest.fixture(scope="module")
def digits():
    splits = load_dataset("digits", setting="full", seed=0)
    return splits, to_device(*splits.train, "cpu"), to_device(*splits.val, "cpu")


def _train(digits, lr: float, epochs: int, seed: int = 0, model_name: str = "mlp6"):
    splits, (X, y), _ = digits
    torch.manual_seed(seed)
    model = build_model(model_name, splits.input_shape, splits.num_classes)
    optimizer = make_optimizer("sgd", model.parameters(), lr)
    generator = torch.Generator().manual_seed(seed)
    losses = [train_one_epoch(model, optimizer, X, y, 50, generator) for _ in range(epochs)]
    return model, losses


def test_mlp_learns_digits(digits) -> None:
    _, _, (Xv, yv) = digits
    model, losses = _train(digits, lr=0.1, epochs=5)
    assert losses[-1] < losses[0]
    result = evaluate(model, Xv, yv)
    assert result["accuracy"] > 0.7  # chance is 0.1
    assert result["loss"] < 1.0
    assert result["mcc"] > 0.6


def test_seeded_determinism(digits) -> None:
    a, losses_a = _train(digits, lr=0.05, epochs=2, seed=3)
    b, losses_b = _train(digits, lr=0.05, epochs=2, seed=3)
    c, _ = _train(digits, lr=0.05, epochs=2, seed=4)
    assert losses_a == losses_b
    for pa, pb in zip(a.parameters(), b.parameters(), strict=True):
        assert torch.equal(pa, pb)
    assert not all(
        torch.equal(pa, pc) for pa, pc in zip(a.parameters(), c.parameters(), strict=True)
    )


def test_shuffle_depends_on_generator_only(digits) -> None:
    """Same weights, same generator seed → same epoch even after other RNG use."""
    splits, (X, y), _ = digits
    results = []
    for noise in (0, 5):
        torch.manual_seed(0)
        model = build_model("mlp6", splits.input_shape, 10)
        torch.randn(noise)  # disturb the global RNG; mlp6 without dropout does not use it
        opt = make_optimizer("sgd", model.parameters(), 0.1)
        results.append(train_one_epoch(model, opt, X, y, 64, torch.Generator().manual_seed(9)))
    assert results[0] == results[1]


def test_divergence_does_not_raise(digits) -> None:
    _, _, (Xv, yv) = digits
    model, losses = _train(digits, lr=1e6, epochs=2)
    assert all(math.isnan(v) for v in losses)
    result = evaluate(model, Xv, yv)
    assert math.isnan(result["loss"])
    for key in ("accuracy", "sensitivity", "specificity", "mcc"):
        assert math.isfinite(result[key])


def test_evaluate_matches_direct_computation(digits) -> None:
    splits, _, (Xv, yv) = digits
    torch.manual_seed(1)
    model = build_model("mlp6-thesis", splits.input_shape, 10)
    result = evaluate(model, Xv, yv, batch_size=64, return_predictions=True)  # 359 → short batch
    with torch.no_grad():
        model.eval()
        logits = model(Xv)
    assert result["loss"] == pytest.approx(nn.functional.cross_entropy(logits, yv).item(), rel=1e-5)
    pred = logits.argmax(1).numpy()
    np.testing.assert_array_equal(result["predictions"], pred)
    report = classification_report(yv.numpy(), pred, 10)
    for key, value in report.items():
        assert result[key] == pytest.approx(value)
    assert not model.training


def test_train_loss_is_mean_over_samples() -> None:
    """With lr tiny the weights barely move, so the epoch mean ≈ the loss before training."""
    torch.manual_seed(0)
    model = build_model("mlp6", (1, 8, 8), 10)
    X, y = torch.rand(130, 1, 8, 8), torch.randint(0, 10, (130,))
    with torch.no_grad():
        before = nn.functional.cross_entropy(model(X), y).item()
    opt = make_optimizer("sgd", model.parameters(), 1e-12)
    assert train_one_epoch(model, opt, X, y, 50, torch.Generator().manual_seed(0)) == (
        pytest.approx(before, rel=1e-5)
    )


@pytest.mark.parametrize(
    ("name", "cls"),
    [("sgd", torch.optim.SGD), ("SGD", torch.optim.SGD), ("adam", torch.optim.Adam),
     ("AdamW", torch.optim.AdamW), ("rmsprop", torch.optim.RMSprop)],
)
def test_make_optimizer_by_name(name: str, cls: type) -> None:
    params = [nn.Parameter(torch.zeros(3))]
    optimizer = make_optimizer(name, params, lr=0.01, weight_decay=0.001)
    assert type(optimizer) is cls
    assert optimizer.param_groups[0]["lr"] == 0.01
    assert optimizer.param_groups[0]["weight_decay"] == 0.001


def test_make_optimizer_momentum() -> None:
    optimizer = make_optimizer("sgd", [nn.Parameter(torch.zeros(1))], lr=0.1, momentum=0.9)
    assert optimizer.param_groups[0]["momentum"] == 0.9
    with pytest.raises(ValueError, match="momentum"):
        make_optimizer("adam", [nn.Parameter(torch.zeros(1))], lr=0.1, momentum=0.9)


def test_make_optimizer_errors() -> None:
    with pytest.raises(ValueError, match="lion"):
        make_optimizer("lion", [nn.Parameter(torch.zeros(1))], lr=0.1)
    with pytest.raises(ValueError, match="lr"):
        make_optimizer("sgd", [nn.Parameter(torch.zeros(1))], lr=0.0)


def test_set_hyperparameters() -> None:
    optimizer = make_optimizer("sgd", [nn.Parameter(torch.zeros(1))], lr=0.1)
    set_hyperparameters(optimizer, lr=0.02, momentum=0.5, weight_decay=0.001)
    group = optimizer.param_groups[0]
    assert (group["lr"], group["momentum"], group["weight_decay"]) == (0.02, 0.5, 0.001)
    adam = make_optimizer("adam", [nn.Parameter(torch.zeros(1))], lr=0.1)
    set_hyperparameters(adam, lr=0.03, momentum=0.9)
    assert adam.param_groups[0]["lr"] == 0.03 and "momentum" not in adam.param_groups[0]


def test_bad_batch_size(digits) -> None:
    splits, (X, y), _ = digits
    model = build_model("mlp6", splits.input_shape, 10)
    with pytest.raises(ValueError, match="batch_size"):
        train_one_epoch(model, make_optimizer("sgd", model.parameters(), 0.1), X, y, 0)
