"""Metrics against scikit-learn on random labels (with absent classes); specificity by hand."""

from __future__ import annotations

import numpy as np
import pytest
from sklearn import metrics as skm

from tune_gamma.metrics import (
    accuracy,
    classification_report,
    confusion_matrix,
    mcc,
    sensitivity,
    specificity,
)


def _random_labels(seed: int, n: int = 200, k: int = 6, drop: tuple[int, ...] = ()) -> tuple:
    rng = np.random.default_rng(seed)
    classes = np.setdiff1d(np.arange(k), drop)
    y_true = rng.choice(classes, n)
    # Mostly right, some noise, so MCC is neither 0 nor 1.
    y_pred = np.where(rng.random(n) < 0.7, y_true, rng.choice(classes, n))
    return y_true, y_pred


@pytest.mark.parametrize("seed", range(5))
@pytest.mark.parametrize("drop", [(), (2,), (0, 5)])
def test_against_sklearn(seed: int, drop: tuple[int, ...]) -> None:
    k = 6
    y_true, y_pred = _random_labels(seed, k=k, drop=drop)
    np.testing.assert_array_equal(
        confusion_matrix(y_true, y_pred, k), skm.confusion_matrix(y_true, y_pred, labels=range(k))
    )
    assert accuracy(y_true, y_pred, k) == pytest.approx(skm.accuracy_score(y_true, y_pred))
    assert sensitivity(y_true, y_pred, k) == pytest.approx(
        skm.recall_score(y_true, y_pred, average="macro", zero_division=0)
    )
    assert mcc(y_true, y_pred, k) == pytest.approx(skm.matthews_corrcoef(y_true, y_pred))


def test_class_predicted_but_never_true_matches_sklearn() -> None:
    y_true = np.array([0, 0, 1, 1, 1, 2])
    y_pred = np.array([0, 3, 1, 1, 2, 2])  # class 3 only predicted; class 4 absent from both
    assert sensitivity(y_true, y_pred, 5) == pytest.approx(
        skm.recall_score(y_true, y_pred, average="macro", zero_division=0)
    )
    # Present classes 0..3: recalls 1/2, 2/3, 1, 0 (0/0 → 0); class 4 left out.
    assert sensitivity(y_true, y_pred, 5) == pytest.approx((0.5 + 2 / 3 + 1 + 0) / 4)
    assert mcc(y_true, y_pred, 5) == pytest.approx(skm.matthews_corrcoef(y_true, y_pred))


def test_specificity_by_hand() -> None:
    y_true = np.array([0, 0, 0, 1, 1, 2, 2, 2])
    y_pred = np.array([0, 0, 1, 1, 2, 2, 2, 0])
    cm = confusion_matrix(y_true, y_pred, 3)
    np.testing.assert_array_equal(cm, [[2, 1, 0], [0, 1, 1], [1, 0, 2]])
    # class 0: negatives are the 5 non-0 samples, one predicted 0 → TN 4, FP 1 → 4/5
    # class 1: 6 negatives, one predicted 1 → 5/6;  class 2: 5 negatives, one predicted 2 → 4/5
    assert specificity(y_true, y_pred, 3) == pytest.approx((4 / 5 + 5 / 6 + 4 / 5) / 3)


def test_specificity_against_sklearn_one_vs_rest() -> None:
    k = 5
    y_true, y_pred = _random_labels(11, n=300, k=k, drop=(3,))
    per_class = []
    for c in range(k):
        if not (np.any(y_true == c) or np.any(y_pred == c)):
            continue
        # Specificity of c = recall of the negative class in the binary c-vs-rest problem.
        per_class.append(skm.recall_score(y_true == c, y_pred == c, pos_label=False))
    assert specificity(y_true, y_pred, k) == pytest.approx(np.mean(per_class))


def test_absent_class_does_not_change_macro_averages() -> None:
    y_true, y_pred = _random_labels(3, k=4)
    report4 = classification_report(y_true, y_pred, 4)
    report7 = classification_report(y_true, y_pred, 7)  # classes 4..6 absent from both
    assert report4 == pytest.approx(report7)


def test_perfect_and_constant_predictions() -> None:
    y = np.array([0, 1, 2, 2, 1, 0])
    assert classification_report(y, y, 3) == {
        "accuracy": 1.0, "sensitivity": 1.0, "specificity": 1.0, "mcc": 1.0
    }
    constant = np.zeros_like(y)
    assert mcc(y, constant, 3) == 0.0 == skm.matthews_corrcoef(y, constant)
    assert sensitivity(y, constant, 3) == pytest.approx(1 / 3)


def test_report_keys_and_types() -> None:
    y_true, y_pred = _random_labels(0, k=10)
    report = classification_report(y_true, y_pred, 10)
    assert set(report) == {"accuracy", "sensitivity", "specificity", "mcc"}
    assert all(type(v) is float for v in report.values())


def test_num_classes_inferred() -> None:
    y_true, y_pred = _random_labels(1, k=4)
    assert confusion_matrix(y_true, y_pred).shape == (4, 4)


@pytest.mark.parametrize(
    ("y_true", "y_pred", "k", "message"),
    [
        ([0, 1, 5], [0, 1, 1], 3, "5"),
        ([0, -1], [0, 0], 3, "-1"),
        ([0, 1], [0], 3, "length"),
        ([], [], 3, "empty"),
        ([0.5, 1.0], [0, 1], 3, "integer"),
    ],
)
def test_bad_labels_raise(y_true: list, y_pred: list, k: int, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        confusion_matrix(y_true, y_pred, k)
