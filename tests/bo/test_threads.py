"""one_blas_thread: BLAS runs on one thread inside, nested blocks keep it, the exit restores it."""

from __future__ import annotations

import pytest

from tune_gamma.bo._threads import one_blas_thread, single_threaded

threadpoolctl = pytest.importorskip("threadpoolctl")


def _blas_threads() -> list[int]:
    return [p["num_threads"] for p in threadpoolctl.threadpool_info() if p["user_api"] == "blas"]


def test_nested_blocks_keep_one_thread_and_the_outer_exit_restores() -> None:
    before = _blas_threads()
    with one_blas_thread():
        assert set(_blas_threads()) <= {1}
        with one_blas_thread():
            assert set(_blas_threads()) <= {1}
        assert set(_blas_threads()) <= {1}  # the inner exit leaves the outer limit alone
    assert _blas_threads() == before


def test_decorated_function_runs_limited_and_exceptions_restore() -> None:
    before = _blas_threads()

    @single_threaded
    def fails() -> None:
        assert set(_blas_threads()) <= {1}
        raise RuntimeError("boom")

    with pytest.raises(RuntimeError, match="boom"):
        fails()
    assert _blas_threads() == before
    with one_blas_thread():
        pass
    assert _blas_threads() == before
