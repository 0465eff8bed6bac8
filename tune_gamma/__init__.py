"""tune_gamma: per-epoch learning-rate search on Ray Tune with Gamma-precision Bayesian optimisation."""

__version__ = "0.1.0"
