"""The objective κ: one score from validation accuracy and validation loss.

Source: the master's thesis behind Kim & Chung, "An Approach to Hyperparameter Optimization for
the Objective Function in Machine Learning", Electronics 8(11):1267, 2019 (eq. 11 and 12). The
thesis's equations were lost in text extraction; the formulas below are reconstructed from its
prose ("Ma squared, Ml divided by λ") and are documented as such.

With Ma the validation accuracy in [0, 1], Ml the validation cross-entropy (> 0) and λ in (0, 1]:

* ``form="improved"`` (eq. 12, the one the thesis uses):
  κ = Ma² − ln(Ml)/λ   if Ma > Ml, else 0
* ``form="earlier"`` (eq. 11):
  κ = Ma − λ·ln(Ml)    if Ma > Ml, else 0

A NaN or infinite accuracy or loss (a diverged trial) gives the floor 0. The loss is clamped to at
least ``LOSS_EPS`` so that a perfect fit (Ml → 0) keeps κ finite.

Note the trap described in the design notes: while Ma ≤ Ml (early epochs of harder tasks), κ is 0
for every candidate and carries no information; callers must break ties by accuracy, then loss.
"""

from __future__ import annotations

import math
import numbers
from typing import overload

import numpy as np
from numpy.typing import ArrayLike, NDArray

KAPPA_FORMS: tuple[str, ...] = ("improved", "earlier")
LOSS_EPS = 1e-12


def _check_params(lam: float, form: str) -> None:
    if form not in KAPPA_FORMS:
        raise ValueError(f"unknown kappa form {form!r}; expected one of {KAPPA_FORMS}")
    if not (isinstance(lam, numbers.Real) and math.isfinite(lam) and 0.0 < lam <= 1.0):
        raise ValueError(f"lam must be in (0, 1], got {lam!r}")


def _check_inputs(acc: NDArray[np.float64], loss: NDArray[np.float64]) -> None:
    finite_acc = acc[np.isfinite(acc)]
    bad_acc = finite_acc[(finite_acc < 0.0) | (finite_acc > 1.0)]
    if bad_acc.size:
        raise ValueError(f"accuracy must be in [0, 1], got {float(bad_acc.flat[0])!r}")
    finite_loss = loss[np.isfinite(loss)]
    bad_loss = finite_loss[finite_loss < 0.0]
    if bad_loss.size:
        raise ValueError(f"loss must be non-negative, got {float(bad_loss.flat[0])!r}")


@overload
def kappa(accuracy: float, loss: float, lam: float = ..., form: str = ...) -> float: ...
@overload
def kappa(
    accuracy: ArrayLike, loss: ArrayLike, lam: float = ..., form: str = ...
) -> NDArray[np.float64]: ...


def kappa(
    accuracy: ArrayLike, loss: ArrayLike, lam: float = 0.5, form: str = "improved"
) -> float | NDArray[np.float64]:
    """κ from validation accuracy (in [0, 1]) and cross-entropy loss (≥ 0).

    improved (thesis eq. 12): κ = acc² − ln(loss)/λ if acc > loss else 0.
    earlier  (thesis eq. 11): κ = acc − λ·ln(loss)  if acc > loss else 0.
    NaN/inf inputs give 0. Scalars in → float out; arrays in → array out (broadcast).

    Raises:
        ValueError: accuracy outside [0, 1], negative loss, λ outside (0, 1] or unknown form.
    """
    _check_params(lam, form)
    scalar = np.ndim(accuracy) == 0 and np.ndim(loss) == 0
    acc = np.asarray(accuracy, dtype=np.float64)
    ml = np.asarray(loss, dtype=np.float64)
    _check_inputs(acc, ml)
    acc, ml = np.broadcast_arrays(acc, ml)

    valid = np.isfinite(acc) & np.isfinite(ml)
    safe_acc = np.where(valid, acc, 0.0)
    safe_loss = np.maximum(np.where(valid, ml, 1.0), LOSS_EPS)
    log_loss = np.log(safe_loss)
    improved = form == "improved"
    value = safe_acc**2 - log_loss / lam if improved else safe_acc - lam * log_loss
    out = np.where(valid & (safe_acc > ml), value, 0.0)
    if scalar:
        return float(out)
    return out
