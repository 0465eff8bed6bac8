"""Ray Tune search spaces to :class:`~tune_gamma.bo.space.SearchSpace`.

Supported: ``tune.uniform``, ``loguniform``, ``quniform``, ``qloguniform``, ``randint``,
``lograndint``, ``qrandint``; constants pass through unchanged. Nested dicts become names joined
by ``/`` (as Ray's own searchers do). Anything else is a ``ValueError`` naming the parameter.
"""

from __future__ import annotations

from typing import Any

from ray.tune.search.sample import Domain, Float, Integer, LogUniform, Quantized, Uniform
from ray.tune.search.variant_generator import parse_spec_vars
from ray.tune.utils.util import flatten_dict, unflatten_dict

from tune_gamma.bo.space import Dimension, SearchSpace

SUPPORTED = "tune.uniform, loguniform, quniform, qloguniform, randint, lograndint or qrandint"


def _dimension(name: str, domain: Domain) -> Dimension:
    sampler = domain.get_sampler()
    q = None
    if isinstance(sampler, Quantized):
        q, sampler = sampler.q, sampler.get_sampler()
    if not isinstance(sampler, (Uniform, LogUniform)) or not isinstance(domain, (Float, Integer)):
        raise ValueError(
            f"parameter {name!r}: {type(domain).__name__} with a {sampler} sampler is not "
            f"supported by tune_gamma's searchers; use {SUPPORTED}")
    log = isinstance(sampler, LogUniform)
    if isinstance(domain, Float):
        return Dimension(name, float(domain.lower), float(domain.upper), log=log, q=q)
    # Ray's randint/lograndint exclude the upper bound; qrandint includes it.
    upper = domain.upper if q is not None else domain.upper - 1
    if upper <= domain.lower:
        raise ValueError(f"parameter {name!r}: integer range [{domain.lower}, {domain.upper}) "
                         "holds fewer than two values; make it a constant")
    return Dimension(name, float(domain.lower), float(upper), log=log, integer=True,
                     q=float(q) if q is not None else None)


def convert_search_space(config: dict[str, Any]) -> tuple[SearchSpace, dict[str, Any]]:
    """Split a Ray param space into (the box to search, the constants to pass through)."""
    _, _, grid_vars = parse_spec_vars(config)
    if grid_vars:
        names = ["/".join(map(str, path)) for path, _ in grid_vars]
        raise ValueError(f"parameters {names}: tune.grid_search is not supported by "
                         f"tune_gamma's searchers; use GridSearcher or {SUPPORTED}")
    flat = flatten_dict(config, prevent_delimiter=True)
    constants, _, _ = parse_spec_vars(flat)
    dims = []
    for name, value in flat.items():
        if isinstance(value, Domain):
            dims.append(_dimension(name, value))
        elif callable(value):
            raise ValueError(f"parameter {name!r}: sample_from/lambda values are not supported "
                             f"by tune_gamma's searchers; use {SUPPORTED}")
    if not dims:
        raise ValueError("the search space has no tunable parameter; give at least one, e.g. "
                         "{'lr': tune.loguniform(1e-4, 0.5)}")
    return SearchSpace(dims), {"/".join(p): v for p, v in constants}


def to_config(space: SearchSpace, point: Any, constants: dict[str, Any]) -> dict[str, Any]:
    """A proposed point (user units) plus the constants, as a nested Ray config."""
    flat = dict(constants)
    flat.update(space.to_dict(point))
    return unflatten_dict(flat)


def from_config(space: SearchSpace, config: dict[str, Any]) -> Any:
    """The point of a (possibly nested) config; a missing parameter is a ``ValueError``."""
    flat = flatten_dict(config, prevent_delimiter=True)
    missing = [n for n in space.names if n not in flat]
    if missing:
        raise ValueError(f"config {config!r} lacks the searched parameters {missing}")
    return space.from_dict(flat)
