"""κ (thesis eq. 11/12, reconstructed): hand-computed values, the 0 branch, bad inputs."""

from __future__ import annotations

import math
import re

import numpy as np
import pytest

from tune_gamma.objective import KAPPA_FORMS, kappa


def test_forms_listed() -> None:
    assert KAPPA_FORMS == ("improved", "earlier")


@pytest.mark.parametrize(
    ("acc", "loss", "lam", "expected"),
    [
        (0.9, 0.3, 0.5, 0.81 - math.log(0.3) / 0.5),  # 0.81 + 2.40795 = 3.21795
        (0.98, 0.05, 1.0, 0.9604 - math.log(0.05)),
        (0.6, 0.5, 0.25, 0.36 + 4 * math.log(2)),
        (1.0, 1.0 - 1e-9, 0.5, 1.0 - math.log(1.0 - 1e-9) / 0.5),
    ],
)
def test_improved_form_values(acc: float, loss: float, lam: float, expected: float) -> None:
    assert kappa(acc, loss, lam=lam) == pytest.approx(expected, rel=1e-12)
    assert kappa(acc, loss, lam=lam, form="improved") == pytest.approx(expected, rel=1e-12)


def test_improved_hand_value() -> None:
    # 0.9² − ln(0.3)/0.5 = 0.81 + 2·1.2039728 = 3.2179456
    assert kappa(0.9, 0.3) == pytest.approx(3.2179456, abs=1e-7)


@pytest.mark.parametrize(
    ("acc", "loss", "lam", "expected"),
    [
        (0.9, 0.3, 0.5, 0.9 - 0.5 * math.log(0.3)),  # 1.5019864
        (0.7, 0.2, 1.0, 0.7 - math.log(0.2)),
        (0.8, 0.6, 0.1, 0.8 - 0.1 * math.log(0.6)),
    ],
)
def test_earlier_form_values(acc: float, loss: float, lam: float, expected: float) -> None:
    assert kappa(acc, loss, lam=lam, form="earlier") == pytest.approx(expected, rel=1e-12)


def test_earlier_hand_value() -> None:
    assert kappa(0.9, 0.3, form="earlier") == pytest.approx(1.5019864, abs=1e-7)


@pytest.mark.parametrize("form", KAPPA_FORMS)
@pytest.mark.parametrize(("acc", "loss"), [(0.6, 1.0), (0.5, 0.5), (0.0, 0.0), (0.1, 2.3)])
def test_zero_when_accuracy_not_above_loss(form: str, acc: float, loss: float) -> None:
    assert kappa(acc, loss, form=form) == 0.0


@pytest.mark.parametrize("form", KAPPA_FORMS)
@pytest.mark.parametrize(
    ("acc", "loss"),
    [(math.nan, 0.1), (0.9, math.nan), (math.inf, 0.1), (0.9, math.inf), (-math.inf, 0.1)],
)
def test_non_finite_gives_floor(form: str, acc: float, loss: float) -> None:
    assert kappa(acc, loss, form=form) == 0.0


def test_zero_loss_is_clamped_and_finite() -> None:
    value = kappa(1.0, 0.0)
    assert math.isfinite(value)
    assert value == pytest.approx(1.0 - math.log(1e-12) / 0.5)
    assert kappa(0.5, 1e-300) == pytest.approx(kappa(0.5, 0.0))


def test_scalar_returns_python_float() -> None:
    assert type(kappa(0.9, 0.3)) is float
    assert type(kappa(np.float32(0.9), np.float64(0.3))) is float


@pytest.mark.parametrize("form", KAPPA_FORMS)
def test_arrays_match_scalars(form: str) -> None:
    acc = np.array([0.9, 0.5, np.nan, 0.99, 0.2])
    loss = np.array([0.3, 0.6, 0.1, 0.02, np.inf])
    out = kappa(acc, loss, lam=0.7, form=form)
    assert isinstance(out, np.ndarray)
    assert out.shape == (5,)
    pairs = zip(acc, loss, strict=True)
    expected = [kappa(float(a), float(m), lam=0.7, form=form) for a, m in pairs]
    np.testing.assert_allclose(out, expected, rtol=1e-12)
    assert out[1] == 0.0 and out[2] == 0.0 and out[4] == 0.0


def test_arrays_broadcast() -> None:
    out = kappa(np.array([[0.9], [0.8]]), np.array([0.1, 0.2, 0.3]))
    assert out.shape == (2, 3)
    assert out[1, 2] == pytest.approx(kappa(0.8, 0.3))


def test_improved_rewards_accuracy_and_low_loss() -> None:
    assert kappa(0.95, 0.2) > kappa(0.90, 0.2)
    assert kappa(0.9, 0.1) > kappa(0.9, 0.2)


@pytest.mark.parametrize("acc", [1.5, -0.1])
def test_accuracy_out_of_range_raises(acc: float) -> None:
    with pytest.raises(ValueError, match=re.escape(str(acc))):
        kappa(acc, 0.3)


def test_accuracy_out_of_range_in_array_raises() -> None:
    with pytest.raises(ValueError, match=re.escape("1.25")):
        kappa(np.array([0.5, 1.25]), np.array([0.1, 0.1]))


def test_negative_loss_raises() -> None:
    with pytest.raises(ValueError, match=re.escape("-0.5")):
        kappa(0.9, -0.5)


@pytest.mark.parametrize("lam", [0.0, -1.0, 1.5, math.nan])
def test_bad_lambda_raises(lam: float) -> None:
    with pytest.raises(ValueError, match=re.escape(str(lam))):
        kappa(0.9, 0.3, lam=lam)


def test_lambda_one_is_allowed() -> None:
    assert kappa(0.9, 0.3, lam=1.0) == pytest.approx(0.81 - math.log(0.3))


def test_unknown_form_raises() -> None:
    with pytest.raises(ValueError, match="squared"):
        kappa(0.9, 0.3, form="squared")
