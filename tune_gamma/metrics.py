"""Classification metrics of the thesis (sensitivity, specificity, accuracy, MCC), pure numpy.

The thesis (Kim & Chung, Electronics 8(11):1267, 2019) reports sensitivity, specificity, accuracy
and the Matthews correlation coefficient, macro-averaged over classes. Conventions:

* ``C = confusion_matrix(...)``: ``C[i, j]`` counts samples of true class i predicted as j
  (scikit-learn's convention).
* Per class k (one-vs-rest): TP = C[k, k], FN = row sum − TP, FP = column sum − TP,
  TN = n − TP − FN − FP; sensitivity_k = TP/(TP+FN), specificity_k = TN/(TN+FP).
* 0/0 inside a class gives 0 (scikit-learn's ``zero_division=0``): e.g. the sensitivity of a
  class that is predicted but never true.
* Macro averages run over the classes that occur in ``y_true`` or ``y_pred``. A class absent from
  both carries no information (its sensitivity is 0/0 and its specificity trivially 1) and is
  left out, as scikit-learn does when no ``labels`` are passed; so the macro sensitivity equals
  ``recall_score(y_true, y_pred, average="macro")``.
* MCC is Gorodkin's multiclass R_K (Comput. Biol. Chem. 28:367, 2004), what scikit-learn's
  ``matthews_corrcoef`` computes, with t = row sums, p = column sums, c = trace, s = n:
  R_K = (c·s − Σ p_k t_k) / sqrt((s² − Σ p_k²)(s² − Σ t_k²)), and 0 when the denominator is 0.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import ArrayLike, NDArray


def _labels(
    y_true: ArrayLike, y_pred: ArrayLike, num_classes: int | None
) -> tuple[NDArray[np.int64], NDArray[np.int64], int]:
    t = np.asarray(y_true).reshape(-1)
    p = np.asarray(y_pred).reshape(-1)
    if t.shape != p.shape:
        raise ValueError(f"y_true and y_pred differ in length: {t.size} vs {p.size}")
    if t.size == 0:
        raise ValueError("y_true and y_pred are empty")
    for name, arr in (("y_true", t), ("y_pred", p)):
        if not np.issubdtype(arr.dtype, np.integer) and not np.all(arr == np.round(arr)):
            raise ValueError(f"{name} must hold integer labels, got dtype {arr.dtype}")
    t = t.astype(np.int64)
    p = p.astype(np.int64)
    if num_classes is None:
        num_classes = int(max(t.max(), p.max())) + 1
    if num_classes < 1:
        raise ValueError(f"num_classes must be >= 1, got {num_classes}")
    lo, hi = int(min(t.min(), p.min())), int(max(t.max(), p.max()))
    if lo < 0 or hi >= num_classes:
        bad = lo if lo < 0 else hi
        raise ValueError(f"label {bad} outside [0, {num_classes}) (num_classes={num_classes})")
    return t, p, num_classes


def confusion_matrix(
    y_true: ArrayLike, y_pred: ArrayLike, num_classes: int | None = None
) -> NDArray[np.int64]:
    """(K, K) counts, ``C[i, j]`` = samples of true class i predicted as class j."""
    t, p, k = _labels(y_true, y_pred, num_classes)
    return np.bincount(t * k + p, minlength=k * k).reshape(k, k).astype(np.int64)


def _safe_ratio(num: NDArray[np.float64], den: NDArray[np.float64]) -> NDArray[np.float64]:
    """num/den elementwise with 0/0 (or x/0) → 0."""
    out = np.zeros_like(num, dtype=np.float64)
    np.divide(num, den, out=out, where=den > 0)
    return out


def _one_vs_rest(cm: NDArray[np.int64]) -> tuple[NDArray[np.float64], ...]:
    cm = cm.astype(np.float64)
    tp = np.diag(cm)
    fn = cm.sum(axis=1) - tp
    fp = cm.sum(axis=0) - tp
    tn = cm.sum() - tp - fn - fp
    present = (cm.sum(axis=1) + cm.sum(axis=0)) > 0
    return tp, fn, fp, tn, present


def sensitivity_from_cm(cm: NDArray[np.int64]) -> float:
    """Macro sensitivity (recall) TP/(TP+FN) over present classes."""
    tp, fn, _, _, present = _one_vs_rest(cm)
    return float(_safe_ratio(tp, tp + fn)[present].mean())


def specificity_from_cm(cm: NDArray[np.int64]) -> float:
    """Macro specificity TN/(TN+FP) over present classes."""
    _, _, fp, tn, present = _one_vs_rest(cm)
    return float(_safe_ratio(tn, tn + fp)[present].mean())


def accuracy_from_cm(cm: NDArray[np.int64]) -> float:
    """trace(C) / n."""
    return float(np.trace(cm) / cm.sum())


def mcc_from_cm(cm: NDArray[np.int64]) -> float:
    """Gorodkin's R_K; 0 when the denominator vanishes (one class predicted or true only)."""
    c = cm.astype(np.float64)
    t = c.sum(axis=1)
    p = c.sum(axis=0)
    s = c.sum()
    cov_ytyp = np.trace(c) * s - p @ t
    cov_ypyp = s * s - p @ p
    cov_ytyt = s * s - t @ t
    den = cov_ypyp * cov_ytyt
    if den <= 0:
        return 0.0
    return float(cov_ytyp / np.sqrt(den))


def sensitivity(y_true: ArrayLike, y_pred: ArrayLike, num_classes: int | None = None) -> float:
    """Macro sensitivity (recall); equals sklearn's ``recall_score(average="macro")``."""
    return sensitivity_from_cm(confusion_matrix(y_true, y_pred, num_classes))


def specificity(y_true: ArrayLike, y_pred: ArrayLike, num_classes: int | None = None) -> float:
    """Macro specificity TN/(TN+FP), one-vs-rest per class."""
    return specificity_from_cm(confusion_matrix(y_true, y_pred, num_classes))


def accuracy(y_true: ArrayLike, y_pred: ArrayLike, num_classes: int | None = None) -> float:
    """Fraction of correct predictions."""
    return accuracy_from_cm(confusion_matrix(y_true, y_pred, num_classes))


def mcc(y_true: ArrayLike, y_pred: ArrayLike, num_classes: int | None = None) -> float:
    """Multiclass Matthews correlation (Gorodkin's R_K), as sklearn's ``matthews_corrcoef``."""
    return mcc_from_cm(confusion_matrix(y_true, y_pred, num_classes))


def classification_report(
    y_true: ArrayLike, y_pred: ArrayLike, num_classes: int | None = None
) -> dict[str, float]:
    """{"accuracy", "sensitivity", "specificity", "mcc"} from one confusion matrix."""
    cm = confusion_matrix(y_true, y_pred, num_classes)
    return {
        "accuracy": accuracy_from_cm(cm),
        "sensitivity": sensitivity_from_cm(cm),
        "specificity": specificity_from_cm(cm),
        "mcc": mcc_from_cm(cm),
    }
