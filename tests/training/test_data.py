"""Data sets: digits splits, and tiny MNIST (IDX) / CIFAR-10 (pickle) files in standard formats."""

from __future__ import annotations

import gzip
import pickle
import struct
from pathlib import Path

import numpy as np
import pytest

from tune_gamma.training.data import DATASETS, load_dataset, read_idx

# ---------------------------------------------------------------------------- digits


def _all_rows(splits) -> list[np.ndarray]:
    return [splits.train[0], splits.val[0], splits.test[0]]


def _assert_disjoint_and_complete(splits, n_total: int) -> None:
    rows = np.concatenate([x.reshape(len(x), -1) for x in _all_rows(splits)])
    assert len(rows) == n_total
    # Digits has a few duplicate images; compare row identities through a join on bytes.
    from sklearn.datasets import load_digits

    all_rows = (load_digits().images / 16.0).astype(np.float32).reshape(n_total, -1)
    assert sorted(map(bytes, rows)) == sorted(map(bytes, all_rows))


def test_datasets_listed() -> None:
    assert DATASETS == ("digits", "mnist", "cifar10")


def test_digits_full_sizes_and_types() -> None:
    d = load_dataset("digits")
    assert d.name == "digits" and d.setting == "full"
    assert d.input_shape == (1, 8, 8) and d.num_classes == 10
    sizes = [len(s[1]) for s in (d.train, d.val, d.test)]
    assert sum(sizes) == 1797
    assert sizes[1] == sizes[2] == 359 and sizes[0] == 1079  # 60/20/20
    for X, y in (d.train, d.val, d.test):
        assert X.dtype == np.float32 and y.dtype == np.int64
        assert X.shape[1:] == (1, 8, 8) and len(X) == len(y)
        assert X.min() >= 0.0 and X.max() <= 1.0
    assert d.train[0].max() == 1.0
    _assert_disjoint_and_complete(d, 1797)


def test_digits_500_setting() -> None:
    d = load_dataset("digits", setting="500")
    assert (len(d.train[1]), len(d.val[1]), len(d.test[1])) == (400, 100, 1297)
    _assert_disjoint_and_complete(d, 1797)
    # Stratified: about 40 train and 10 validation images per class (digits has 174–183 per
    # class, so the proportions are close to but not exactly equal).
    assert np.all(np.abs(np.bincount(d.train[1], minlength=10) - 40) <= 2)
    assert np.all(np.abs(np.bincount(d.val[1], minlength=10) - 10) <= 1)


def test_digits_full_is_stratified() -> None:
    d = load_dataset("digits")
    full = np.bincount(np.concatenate([d.train[1], d.val[1], d.test[1]]), minlength=10)
    for _, y in (d.train, d.val, d.test):
        share = np.bincount(y, minlength=10) / len(y)
        np.testing.assert_allclose(share, full / full.sum(), atol=0.01)


def test_digits_seeded() -> None:
    a = load_dataset("digits", setting="500", seed=3)
    b = load_dataset("digits", setting="500", seed=3)
    c = load_dataset("digits", setting="500", seed=4)
    np.testing.assert_array_equal(a.train[0], b.train[0])
    np.testing.assert_array_equal(a.val[1], b.val[1])
    assert not np.array_equal(a.train[0], c.train[0])


# ---------------------------------------------------------------------------- MNIST IDX files


def _write_idx(path: Path, array: np.ndarray, gz: bool) -> None:
    """IDX: 0x00 0x00, type 0x08 (ubyte), ndim; big-endian int32 dims; raw bytes."""
    header = bytes([0, 0, 0x08, array.ndim]) + struct.pack(f">{array.ndim}i", *array.shape)
    raw = header + array.astype(np.uint8).tobytes()
    if gz:
        path.with_name(path.name + ".gz").write_bytes(gzip.compress(raw))
    else:
        path.write_bytes(raw)


def _write_mnist(directory: Path, n_train: int, n_test: int, gz: bool) -> dict[str, np.ndarray]:
    rng = np.random.default_rng(0)
    arrays = {
        "train-images-idx3-ubyte": rng.integers(0, 256, (n_train, 28, 28), dtype=np.uint8),
        "train-labels-idx1-ubyte": (np.arange(n_train) % 10).astype(np.uint8),
        "t10k-images-idx3-ubyte": rng.integers(0, 256, (n_test, 28, 28), dtype=np.uint8),
        "t10k-labels-idx1-ubyte": (np.arange(n_test) * 3 % 10).astype(np.uint8),
    }
    directory.mkdir(parents=True, exist_ok=True)
    for name, array in arrays.items():
        _write_idx(directory / name, array, gz)
    return arrays


def test_idx_magic_numbers(tmp_path: Path) -> None:
    images = np.arange(2 * 3 * 4, dtype=np.uint8).reshape(2, 3, 4)
    _write_idx(tmp_path / "img", images, gz=False)
    raw = (tmp_path / "img").read_bytes()
    assert raw[:4] == b"\x00\x00\x08\x03"  # 2051, the images magic number
    np.testing.assert_array_equal(read_idx(tmp_path / "img"), images)
    _write_idx(tmp_path / "lbl", np.array([1, 2, 3], dtype=np.uint8), gz=True)
    assert gzip.decompress((tmp_path / "lbl.gz").read_bytes())[:4] == b"\x00\x00\x08\x01"
    np.testing.assert_array_equal(read_idx(tmp_path / "lbl.gz"), [1, 2, 3])


def test_idx_rejects_bad_magic(tmp_path: Path) -> None:
    (tmp_path / "bad").write_bytes(b"\x12\x34\x08\x01" + b"\x00" * 8)
    with pytest.raises(ValueError, match="not an IDX"):
        read_idx(tmp_path / "bad")


@pytest.mark.parametrize("gz", [True, False])
def test_mnist_full_from_idx(tmp_path: Path, gz: bool) -> None:
    arrays = _write_mnist(tmp_path, n_train=60, n_test=12, gz=gz)
    d = load_dataset("mnist", data_dir=tmp_path)
    assert d.input_shape == (1, 28, 28) and d.num_classes == 10
    # Last 1/6 of the training file (10k of 60k for the real one) is the validation split.
    assert (len(d.train[1]), len(d.val[1]), len(d.test[1])) == (50, 10, 12)
    images = arrays["train-images-idx3-ubyte"].astype(np.float32) / 255
    np.testing.assert_array_equal(d.train[0][:, 0], images[:50])
    np.testing.assert_array_equal(d.val[0][:, 0], images[50:])
    np.testing.assert_array_equal(d.val[1], arrays["train-labels-idx1-ubyte"][50:])
    np.testing.assert_array_equal(d.test[1], arrays["t10k-labels-idx1-ubyte"])
    assert d.test[0].dtype == np.float32 and d.test[1].dtype == np.int64


def test_mnist_500_in_torchvision_layout(tmp_path: Path) -> None:
    arrays = _write_mnist(tmp_path / "MNIST" / "raw", n_train=600, n_test=20, gz=True)
    d = load_dataset("mnist", data_dir=tmp_path, setting="500", seed=1)
    assert (len(d.train[1]), len(d.val[1]), len(d.test[1])) == (400, 100, 20)
    np.testing.assert_array_equal(np.bincount(d.train[1]), [40] * 10)
    np.testing.assert_array_equal(np.bincount(d.val[1]), [10] * 10)
    flat = arrays["train-images-idx3-ubyte"].reshape(600, -1).astype(np.float32) / 255
    picked = np.concatenate([d.train[0], d.val[0]]).reshape(500, -1)
    assert len({bytes(r) for r in picked}) == 500  # disjoint train/val
    assert {bytes(r) for r in picked} <= {bytes(r) for r in flat}


def test_mnist_missing_files_message(tmp_path: Path) -> None:
    _write_mnist(tmp_path, n_train=12, n_test=6, gz=False)
    (tmp_path / "t10k-labels-idx1-ubyte").unlink()
    with pytest.raises(FileNotFoundError) as info:
        load_dataset("mnist", data_dir=tmp_path)
    message = str(info.value)
    assert "t10k-labels-idx1-ubyte" in message
    assert "train-images-idx3-ubyte," not in message  # only what is missing
    assert str(tmp_path) in message and str(tmp_path / "MNIST" / "raw") in message
    assert "http" in message


# ---------------------------------------------------------------------------- CIFAR-10 pickles


def _write_cifar(directory: Path, per_batch: int, n_test: int) -> list[dict]:
    """Batches as the real ones: a dict with bytes keys, data uint8 (N, 3072) R|G|B planes."""
    rng = np.random.default_rng(0)
    directory.mkdir(parents=True, exist_ok=True)
    written = []
    for name, n in [*((f"data_batch_{i}", per_batch) for i in range(1, 6)), ("test_batch", n_test)]:
        labels = [int(v) for v in rng.integers(0, 10, n)]
        data = rng.integers(0, 256, (n, 3072), dtype=np.uint8)
        batch = {
            b"batch_label": name.encode(),
            b"labels": labels,
            b"data": data,
            b"filenames": [f"img_{i}.png".encode() for i in range(n)],
        }
        with open(directory / name, "wb") as f:
            pickle.dump(batch, f, protocol=2)
        written.append(batch)
    return written


def test_cifar_full(tmp_path: Path) -> None:
    batches = _write_cifar(tmp_path / "cifar-10-batches-py", per_batch=20, n_test=7)
    d = load_dataset("cifar10", data_dir=tmp_path)
    assert d.input_shape == (3, 32, 32) and d.num_classes == 10
    # Last 1/10 of the 5 training batches (5k of 50k for the real ones) is validation.
    assert (len(d.train[1]), len(d.val[1]), len(d.test[1])) == (90, 10, 7)
    first = batches[0][b"data"][0]
    np.testing.assert_array_equal(d.train[0][0, 0], first[:1024].reshape(32, 32) / np.float32(255))
    np.testing.assert_array_equal(d.train[0][0, 2], first[2048:].reshape(32, 32) / np.float32(255))
    np.testing.assert_array_equal(d.val[1], batches[4][b"labels"][10:])
    np.testing.assert_array_equal(d.test[1], batches[5][b"labels"])
    assert d.train[0].dtype == np.float32 and d.train[1].dtype == np.int64


def test_cifar_500_directly_in_data_dir(tmp_path: Path) -> None:
    _write_cifar(tmp_path, per_batch=110, n_test=5)
    d = load_dataset("cifar10", data_dir=str(tmp_path), setting="500")
    assert (len(d.train[1]), len(d.val[1]), len(d.test[1])) == (400, 100, 5)
    assert d.train[0].shape[1:] == (3, 32, 32)


def test_cifar_missing_files_message(tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError) as info:
        load_dataset("cifar10", data_dir=tmp_path)
    message = str(info.value)
    assert "data_batch_1" in message and "test_batch" in message
    assert str(tmp_path / "cifar-10-batches-py") in message
    assert "cifar-10-python.tar.gz" in message


# ---------------------------------------------------------------------------- errors


def test_unknown_name() -> None:
    with pytest.raises(ValueError, match="fashion"):
        load_dataset("fashion")


def test_unknown_setting() -> None:
    with pytest.raises(ValueError, match="250"):
        load_dataset("digits", setting="250")


def test_download_without_torchvision_is_clear(tmp_path: Path) -> None:
    try:
        import torchvision  # noqa: F401
    except ImportError:
        with pytest.raises(ImportError, match=r"tune-gamma\[vision\]"):
            load_dataset("mnist", data_dir=tmp_path, download=True)
    else:
        pytest.skip("torchvision installed: download would hit the network")
