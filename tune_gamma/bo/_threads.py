"""One BLAS thread around the optimiser's many small linear-algebra calls.

SciPy ≥ 1.15's L-BFGS-B makes many tiny BLAS calls, and with OpenBLAS threads those get 5–10×
slower (scipy/scipy#22438; Optuna's ``_gp/thread_limiting.py`` limits threads for the same
reason). Our matrices are small enough that one thread loses little, so the fitting, the
acquisition maximisation and the optimiser's public methods run under :func:`one_blas_thread`.
Without ``threadpoolctl`` (it comes with scikit-learn) this is a no-op.
"""

from __future__ import annotations

import contextlib
import functools
import threading
from collections.abc import Callable, Iterator
from typing import Any, TypeVar

_F = TypeVar("_F", bound=Callable[..., Any])
_CONTROLLER: Any = None
_NESTING = threading.local()  # .active: this thread is inside one_blas_thread


@contextlib.contextmanager
def one_blas_thread() -> Iterator[None]:
    """Run the block with BLAS limited to one thread (restored afterwards). Inside another
    such block of the same thread it does nothing (the limit costs ~15 µs to set)."""
    global _CONTROLLER
    if getattr(_NESTING, "active", False):
        yield
        return
    if _CONTROLLER is None:
        try:
            from threadpoolctl import ThreadpoolController
        except ImportError:  # pragma: no cover - threadpoolctl comes with scikit-learn
            _CONTROLLER = False
        else:
            _CONTROLLER = ThreadpoolController()
    if _CONTROLLER is False:
        yield
        return
    with _CONTROLLER.limit(limits=1, user_api="blas"):
        _NESTING.active = True
        try:
            yield
        finally:
            _NESTING.active = False


def single_threaded(function: _F) -> _F:
    """Decorator: call ``function`` under :func:`one_blas_thread`."""

    @functools.wraps(function)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        with one_blas_thread():
            return function(*args, **kwargs)

    return wrapper  # type: ignore[return-value]
