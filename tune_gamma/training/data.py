"""Data sets of the thesis's experiments as in-memory numpy splits.

``load_dataset(name, data_dir, setting, seed)`` returns train/validation/test splits with
``X`` float32 of shape (N, C, H, W) scaled to [0, 1] and ``y`` int64.

Names (``DATASETS``):

* ``digits``: scikit-learn's bundled 1,797 8×8 digits (no files needed), pixels / 16.
* ``mnist``: the standard IDX files (``train-images-idx3-ubyte`` … , gzipped or not) in
  ``data_dir`` or ``data_dir/MNIST/raw`` (torchvision's layout), pixels / 255.
* ``cifar10``: the python pickle batches (``data_batch_1`` … ``data_batch_5``, ``test_batch``) in
  ``data_dir/cifar-10-batches-py`` or ``data_dir``, pixels / 255.

Settings (``SETTINGS``):

* ``"full"``: digits → seeded stratified 60/20/20 train/val/test. mnist → the last 1/6 of the
  training file (10k of 60k) is validation, the first 50k training, t10k the test set (the classic
  50k/10k/10k split of the Theano/Lasagne tutorials; the thesis trained on all 60k). cifar10 → the
  last 1/10 of the five training batches (5k of 50k) is validation, 45k training, test_batch test.
  The train/val split of mnist and cifar10 does not depend on ``seed``.
* ``"500"``: the thesis's small setting: a seeded stratified sample of 500 training images, split
  400 train / 100 validation (stratified). Test: the rest of digits (1,297 images), or the
  standard test file for mnist and cifar10.

Nothing is downloaded unless ``download=True`` and torchvision is installed
(``pip install tune-gamma[vision]``); then torchvision fetches the standard archives into
``data_dir`` and the files are read from there as above.
"""

from __future__ import annotations

import gzip
import os
import pickle
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from numpy.typing import NDArray

DATASETS: tuple[str, ...] = ("digits", "mnist", "cifar10")
SETTINGS: tuple[str, ...] = ("full", "500")
SMALL_TRAIN, SMALL_VAL = 400, 100
DATA_DIR_ENV = "TUNE_GAMMA_DATA_DIR"
NUM_CLASSES = 10  # all three data sets have ten classes

MNIST_FILES = (
    "train-images-idx3-ubyte",
    "train-labels-idx1-ubyte",
    "t10k-images-idx3-ubyte",
    "t10k-labels-idx1-ubyte",
)
MNIST_URL = "https://ossci-datasets.s3.amazonaws.com/mnist/ (or http://yann.lecun.com/exdb/mnist/)"
CIFAR_DIR = "cifar-10-batches-py"
CIFAR_FILES = (*(f"data_batch_{i}" for i in range(1, 6)), "test_batch")
CIFAR_URL = "https://www.cs.toronto.edu/~kriz/cifar-10-python.tar.gz"
_IDX_DTYPES = {0x08: ">u1", 0x09: ">i1", 0x0B: ">i2", 0x0C: ">i4", 0x0D: ">f4", 0x0E: ">f8"}

Split = tuple[NDArray[np.float32], NDArray[np.int64]]


@dataclass(frozen=True)
class DatasetSplits:
    """Train/validation/test arrays: X float32 (N, C, H, W) in [0, 1], y int64 in [0, K)."""

    train: Split
    val: Split
    test: Split
    num_classes: int
    input_shape: tuple[int, int, int]
    name: str
    setting: str = "full"


def default_data_dir() -> Path:
    """``$TUNE_GAMMA_DATA_DIR`` if set, else ``./data``."""
    return Path(os.environ.get(DATA_DIR_ENV, "data"))


def load_dataset(
    name: str,
    data_dir: str | os.PathLike[str] | None = None,
    setting: str = "full",
    seed: int = 0,
    download: bool = False,
) -> DatasetSplits:
    """Load ``name`` (one of ``DATASETS``) in ``setting`` ("full" or "500"); see module doc.

    Raises:
        ValueError: unknown name or setting.
        FileNotFoundError: mnist/cifar10 files missing (the message says which, where, and how
            to get them).
    """
    if name not in DATASETS:
        raise ValueError(f"unknown dataset {name!r}; expected one of {DATASETS}")
    setting = str(setting)
    if setting not in SETTINGS:
        raise ValueError(f"unknown setting {setting!r}; expected one of {SETTINGS}")
    if name == "digits":
        return _load_digits(setting, seed)
    root = Path(data_dir) if data_dir is not None else default_data_dir()
    if download:
        _download(name, root)
    if name == "mnist":
        (Xtr, ytr), test = _read_mnist(root)
        val_fraction = 1 / 6
    else:
        (Xtr, ytr), test = _read_cifar10(root)
        val_fraction = 1 / 10
    if setting == "500":
        train, val = _small_split(Xtr, ytr, seed)
    else:
        n_val = round(len(ytr) * val_fraction)
        train, val = (Xtr[:-n_val], ytr[:-n_val]), (Xtr[-n_val:], ytr[-n_val:])
    return _splits(name, setting, train, val, test)


def _splits(name: str, setting: str, train: Split, val: Split, test: Split) -> DatasetSplits:
    ys = np.concatenate([train[1], val[1], test[1]])
    if ys.min() < 0 or ys.max() >= NUM_CLASSES:
        raise ValueError(f"{name}: labels outside [0, {NUM_CLASSES}): {ys.min()}..{ys.max()}")
    c, h, w = train[0].shape[1:]
    return DatasetSplits(
        train=train, val=val, test=test, num_classes=NUM_CLASSES,
        input_shape=(int(c), int(h), int(w)), name=name, setting=setting,
    )


# ---------------------------------------------------------------------------- splitting


def _stratified_take(
    y: NDArray[np.int64], idx: NDArray[np.int64], n_take: int, rng: np.random.Generator
) -> tuple[NDArray[np.int64], NDArray[np.int64]]:
    """Split ``idx`` into (taken, rest) with ``n_take`` taken, class proportions kept."""
    from sklearn.model_selection import train_test_split

    labels = y[idx]
    _, counts = np.unique(labels, return_counts=True)
    n_rest = len(idx) - n_take
    stratify = labels if counts.min() >= 2 and min(n_take, n_rest) >= len(counts) else None
    taken, rest = train_test_split(
        idx, train_size=n_take, stratify=stratify, random_state=int(rng.integers(2**31 - 1))
    )
    return np.asarray(taken), np.asarray(rest)


def _small_split(X: NDArray[np.float32], y: NDArray[np.int64], seed: int) -> tuple[Split, Split]:
    """The thesis's 500-image setting: stratified 500 of (X, y), split 400/100."""
    n_small = SMALL_TRAIN + SMALL_VAL
    if len(y) < n_small:
        raise ValueError(f"setting '500' needs at least {n_small} training images, got {len(y)}")
    rng = np.random.default_rng(seed)
    idx = np.arange(len(y))
    small = idx if len(y) == n_small else _stratified_take(y, idx, n_small, rng)[0]
    tr, va = _stratified_take(y, small, SMALL_TRAIN, rng)
    return (X[tr], y[tr]), (X[va], y[va])


def _load_digits(setting: str, seed: int) -> DatasetSplits:
    from sklearn.datasets import load_digits

    bunch = load_digits()
    X = (bunch.images / 16.0).astype(np.float32)[:, None, :, :]
    y = bunch.target.astype(np.int64)
    rng = np.random.default_rng(seed)
    idx = np.arange(len(y))
    if setting == "500":
        small, te = _stratified_take(y, idx, SMALL_TRAIN + SMALL_VAL, rng)
        tr, va = _stratified_take(y, small, SMALL_TRAIN, rng)
    else:
        n_test = round(0.2 * len(y))
        rest, te = _stratified_take(y, idx, len(y) - n_test, rng)
        tr, va = _stratified_take(y, rest, len(rest) - n_test, rng)
    return _splits("digits", setting, (X[tr], y[tr]), (X[va], y[va]), (X[te], y[te]))


# ---------------------------------------------------------------------------- MNIST (IDX)


def read_idx(path: str | os.PathLike[str]) -> NDArray[np.generic]:
    """Read one IDX file (``.gz`` or plain): magic 0x0000 ⟨dtype⟩ ⟨ndim⟩, big-endian dims."""
    path = Path(path)
    raw = path.read_bytes()
    if path.suffix == ".gz":
        raw = gzip.decompress(raw)
    if len(raw) < 4 or raw[0] != 0 or raw[1] != 0 or raw[2] not in _IDX_DTYPES:
        raise ValueError(f"{path} is not an IDX file (magic {raw[:4].hex()})")
    ndim = raw[3]
    dims = tuple(int(d) for d in np.frombuffer(raw, dtype=">i4", count=ndim, offset=4))
    dtype = np.dtype(_IDX_DTYPES[raw[2]])
    offset = 4 + 4 * ndim
    expected = int(np.prod(dims)) * dtype.itemsize
    if len(raw) - offset != expected:
        raise ValueError(f"{path}: header says {dims} ({expected} bytes), file has "
                         f"{len(raw) - offset}")
    return np.frombuffer(raw, dtype=dtype, offset=offset).reshape(dims)


def _find(candidates: list[Path], stem: str) -> Path | None:
    for d in candidates:
        for fname in (stem, stem + ".gz"):
            if (d / fname).is_file():
                return d / fname
    return None


def _read_mnist(root: Path) -> tuple[Split, Split]:
    dirs = [root, root / "MNIST" / "raw"]
    found = {stem: _find(dirs, stem) for stem in MNIST_FILES}
    missing = [stem for stem, p in found.items() if p is None]
    if missing:
        raise FileNotFoundError(
            f"MNIST files missing: {', '.join(missing)} (plain or .gz). Looked in: "
            f"{', '.join(str(d) for d in dirs)}. Get the four standard IDX files from {MNIST_URL} "
            f"and place them in {root}, or pass download=True with torchvision installed "
            "(pip install tune-gamma[vision])."
        )

    def pair(img_stem: str, lbl_stem: str) -> Split:
        images = read_idx(found[img_stem])  # type: ignore[arg-type]
        labels = read_idx(found[lbl_stem])  # type: ignore[arg-type]
        if images.ndim != 3 or labels.ndim != 1 or len(images) != len(labels):
            raise ValueError(f"MNIST {img_stem}/{lbl_stem}: shapes {images.shape}, {labels.shape}")
        X = (images.astype(np.float32) / 255.0)[:, None, :, :]
        return X, labels.astype(np.int64)

    return pair(MNIST_FILES[0], MNIST_FILES[1]), pair(MNIST_FILES[2], MNIST_FILES[3])


# ---------------------------------------------------------------------------- CIFAR-10 (pickles)


def _read_cifar_batch(path: Path) -> Split:
    with open(path, "rb") as f:
        batch = pickle.load(f, encoding="bytes")
    data = batch.get(b"data", batch.get("data"))
    labels = batch.get(b"labels", batch.get("labels"))
    if data is None or labels is None:
        raise ValueError(f"{path} is not a CIFAR-10 batch (keys {sorted(map(str, batch))})")
    data = np.asarray(data, dtype=np.uint8)
    X = data.reshape(len(data), 3, 32, 32).astype(np.float32) / 255.0
    return X, np.asarray(labels, dtype=np.int64)


def _read_cifar10(root: Path) -> tuple[Split, Split]:
    dirs = [root / CIFAR_DIR, root]
    found = {name: next((d / name for d in dirs if (d / name).is_file()), None)
             for name in CIFAR_FILES}
    missing = [name for name, p in found.items() if p is None]
    if missing:
        raise FileNotFoundError(
            f"CIFAR-10 files missing: {', '.join(missing)}. Looked in: "
            f"{', '.join(str(d) for d in dirs)}. Download and unpack {CIFAR_URL} into {root} "
            "(it creates cifar-10-batches-py/), or pass download=True with torchvision installed "
            "(pip install tune-gamma[vision])."
        )
    parts = [_read_cifar_batch(found[name]) for name in CIFAR_FILES[:-1]]  # type: ignore[arg-type]
    train = (np.concatenate([p[0] for p in parts]), np.concatenate([p[1] for p in parts]))
    return train, _read_cifar_batch(found[CIFAR_FILES[-1]])  # type: ignore[arg-type]


# ---------------------------------------------------------------------------- download


def _download(name: str, root: Path) -> None:
    """Fetch the standard archives with torchvision (optional dependency)."""
    try:
        from torchvision import datasets as tv_datasets
    except ImportError as exc:
        raise ImportError(
            f"download=True for {name!r} needs torchvision: pip install tune-gamma[vision], or "
            f"place the standard files in {root} yourself (see tune_gamma.training.data)."
        ) from exc
    root.mkdir(parents=True, exist_ok=True)
    cls = tv_datasets.MNIST if name == "mnist" else tv_datasets.CIFAR10
    for train in (True, False):
        cls(root=str(root), train=train, download=True)
