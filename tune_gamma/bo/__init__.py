"""Bayesian optimisation core: pure numpy/scipy, no Ray.

A GP surrogate on the unit cube with either a Gaussian predictive or a Gamma prior on its
precision (Student-t predictive), expected improvement under each, an acquisition maximiser,
and :class:`BayesianOptimizer`, the ask/tell object the Ray searcher wraps.
"""

from .acquisition import (
    LogExpectedImprovement,
    expected_improvement,
    log_expected_improvement,
    log_student_t_ei,
    student_t_ei,
)
from .gp import GaussianProcess, Predictive
from .kernels import RBF, Kernel, Matern52, get_kernel
from .maximize import MaximizeResult, maximize
from .optimizer import BayesianOptimizer
from .space import Dimension, SearchSpace

__all__ = [
    "RBF",
    "BayesianOptimizer",
    "Dimension",
    "GaussianProcess",
    "Kernel",
    "LogExpectedImprovement",
    "Matern52",
    "MaximizeResult",
    "Predictive",
    "SearchSpace",
    "expected_improvement",
    "get_kernel",
    "log_expected_improvement",
    "log_student_t_ei",
    "maximize",
    "student_t_ei",
]
