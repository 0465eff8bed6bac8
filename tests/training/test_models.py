"""Models: output shapes on each data set's input, He initialisation, the thesis's dropout."""

from __future__ import annotations

import pytest
import torch
from torch import nn

from tune_gamma.training.models import MODELS, build_model

SHAPES = {"digits": (1, 8, 8), "mnist": (1, 28, 28), "cifar10": (3, 32, 32)}


@pytest.mark.parametrize("name", MODELS)
@pytest.mark.parametrize("data", sorted(SHAPES))
def test_output_shape(name: str, data: str) -> None:
    model = build_model(name, SHAPES[data], num_classes=10)
    model.eval()
    out = model(torch.randn(3, *SHAPES[data]))
    assert out.shape == (3, 10)
    assert torch.isfinite(out).all()


def test_num_classes_respected() -> None:
    model = build_model("keras-cnn", (1, 8, 8), num_classes=4)
    assert model(torch.zeros(2, 1, 8, 8)).shape == (2, 4)


def _linears(model: nn.Module) -> list[nn.Linear]:
    return [m for m in model.modules() if isinstance(m, nn.Linear)]


def test_mlp6_structure() -> None:
    model = build_model("mlp6", (1, 28, 28), 10)
    linears = _linears(model)
    assert [(m.in_features, m.out_features) for m in linears] == [
        (784, 100), *[(100, 100)] * 5, (100, 10)
    ]
    assert sum(isinstance(m, nn.ReLU) for m in model.modules()) == 6
    assert not any(isinstance(m, nn.Dropout) for m in model.modules())


def test_he_initialisation_variance() -> None:
    torch.manual_seed(0)
    model = build_model("mlp6", (3, 32, 32), 10)
    for layer in _linears(model):
        fan_in = layer.in_features
        var = layer.weight.var().item()
        # kaiming normal, fan_in, ReLU gain: Var = 2 / fan_in (≥ 1,000 weights per layer).
        assert var == pytest.approx(2.0 / fan_in, rel=0.15)
        assert abs(layer.weight.mean().item()) < 0.1 * (2.0 / fan_in) ** 0.5
        assert torch.count_nonzero(layer.bias) == 0


def test_same_seed_same_weights() -> None:
    torch.manual_seed(7)
    a = build_model("mlp6", (1, 8, 8), 10)
    torch.manual_seed(7)
    b = build_model("mlp6", (1, 8, 8), 10)
    for pa, pb in zip(a.parameters(), b.parameters(), strict=True):
        assert torch.equal(pa, pb)


@pytest.mark.parametrize("name", MODELS)
@pytest.mark.parametrize("data", sorted(SHAPES))
def test_uninitialised_build_takes_any_state_dict_and_draws_nothing(name: str, data: str) -> None:
    torch.manual_seed(3)
    source = build_model(name, SHAPES[data], 10)
    rng_state = torch.get_rng_state()
    empty = build_model(name, SHAPES[data], 10, initialise=False)
    assert torch.equal(torch.get_rng_state(), rng_state)  # no initialiser, no draw
    assert all(p.is_meta for p in empty.parameters())
    assert list(empty.buffers()) == []  # a state dict then fills every tensor
    model = empty.to_empty(device="cpu")
    model.load_state_dict(source.state_dict())
    source.eval()
    model.eval()
    x = torch.randn(2, *SHAPES[data])
    assert torch.equal(model(x), source(x))


def test_mlp6_thesis_has_dropout_half_after_every_hidden_relu() -> None:
    model = build_model("mlp6-thesis", (1, 28, 28), 10)
    layers = list(model)
    dropouts = [m for m in layers if isinstance(m, nn.Dropout)]
    assert len(dropouts) == 6 and all(m.p == 0.5 for m in dropouts)
    for i, m in enumerate(layers):
        if isinstance(m, nn.ReLU):
            assert isinstance(layers[i + 1], nn.Dropout)


def test_dropout_override() -> None:
    model = build_model("mlp6", (1, 8, 8), 10, dropout=0.2)
    assert [m.p for m in model.modules() if isinstance(m, nn.Dropout)] == [0.2] * 6
    cnn = build_model("keras-cnn", (3, 32, 32), 10, dropout=0.0)
    assert all(m.p == 0.0 for m in cnn.modules() if isinstance(m, nn.Dropout))


def test_keras_cnn_layout() -> None:
    model = build_model("keras-cnn", (3, 32, 32), 10)
    convs = [m for m in model.modules() if isinstance(m, nn.Conv2d)]
    assert [(c.in_channels, c.out_channels, c.kernel_size) for c in convs] == [
        (3, 32, (3, 3)), (32, 32, (3, 3)), (32, 64, (3, 3)), (64, 64, (3, 3))
    ]
    assert [m.p for m in model.modules() if isinstance(m, nn.Dropout)] == [0.25, 0.25, 0.5]
    dense = _linears(model)
    assert [(m.in_features, m.out_features) for m in dense] == [(64 * 8 * 8, 512), (512, 10)]
    digits_dense = _linears(build_model("keras-cnn", (1, 8, 8), 10))[0]
    assert digits_dense.in_features == 64 * 2 * 2  # 'same' padding: 8 → 4 → 2
    mnist_dense = _linears(build_model("keras-cnn", (1, 28, 28), 10))[0]
    assert mnist_dense.in_features == 64 * 7 * 7


def test_unknown_model() -> None:
    with pytest.raises(ValueError, match="resnet50"):
        build_model("resnet50", (1, 8, 8), 10)


def test_bad_dropout() -> None:
    with pytest.raises(ValueError, match=r"1\.5"):
        build_model("mlp6", (1, 8, 8), 10, dropout=1.5)


def test_cnn_input_too_small() -> None:
    with pytest.raises(ValueError, match="too small"):
        build_model("keras-cnn", (1, 2, 2), 10)
