"""Ray search spaces to tune_gamma boxes."""

import pytest
from ray import tune

from tune_gamma.tune.domains import convert_search_space, from_config, to_config


def test_each_supported_domain_converts():
    space, constants = convert_search_space({
        "lr": tune.loguniform(1e-4, 0.5),
        "momentum": tune.uniform(0.0, 0.99),
        "wd": tune.qloguniform(1e-5, 1e-2, 1e-5),
        "dropout": tune.quniform(0.0, 0.5, 0.1),
        "batch": tune.randint(16, 129),
        "width": tune.qrandint(32, 256, 32),
        "depth": tune.lograndint(1, 17),
        "seed": 7,
        "nested": {"beta": tune.uniform(0.1, 0.9), "name": "sgd"},
    })
    dims = {d.name: d for d in space.dimensions}
    assert dims["lr"].log and not dims["momentum"].log
    assert dims["wd"].log and dims["wd"].q == pytest.approx(1e-5)
    assert dims["batch"].integer and (dims["batch"].low, dims["batch"].high) == (16, 128)
    assert dims["width"].integer and dims["width"].high == 256 and dims["width"].q == 32
    assert dims["depth"].log and dims["depth"].high == 16
    assert "nested/beta" in dims
    assert constants == {"seed": 7, "nested/name": "sgd"}


def test_round_trip_config():
    space, constants = convert_search_space(
        {"lr": tune.uniform(0, 1), "opt": {"m": tune.uniform(0, 1)}, "bs": 50})
    config = to_config(space, [0.25, 0.5], constants)
    assert config == {"lr": 0.25, "opt": {"m": 0.5}, "bs": 50}
    assert list(from_config(space, config)) == [0.25, 0.5]
    with pytest.raises(ValueError, match="lacks the searched parameters"):
        from_config(space, {"lr": 0.1})


@pytest.mark.parametrize("param, message", [
    (tune.choice([0.1, 0.2]), "'opt_name'"),
    (tune.randn(0, 1), "Normal"),
    (tune.grid_search([1, 2]), "grid_search"),
    (tune.sample_from(lambda _: 1), "'opt_name'"),
])
def test_unsupported_domains_name_the_parameter(param, message):
    with pytest.raises(ValueError, match=message):
        convert_search_space({"lr": tune.uniform(0, 1), "opt_name": param})


def test_space_without_tunable_parameter_is_an_error():
    with pytest.raises(ValueError, match="no tunable parameter"):
        convert_search_space({"lr": 0.1})


def test_bad_bounds_name_the_parameter():
    with pytest.raises(ValueError, match="'lr'"):
        convert_search_space({"lr": tune.uniform(0.5, 0.5)})
