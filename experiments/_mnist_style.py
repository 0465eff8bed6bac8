"""MNIST-*style* data for benchmarks: scikit-learn's digits upscaled to MNIST's 28x28.

Not MNIST (which cannot be downloaded on this project's machines): each image is one of the
1,797 digits, upscaled 3x to 24x24 and placed at a random shift inside 28x28, written as the
four standard gzipped IDX files so that runs go through the real MNIST loader
(``load_dataset("mnist", directory, ...)``). Good for timing; its accuracies mean little, since
train and test images come from the same 1,797 digits.
"""

from __future__ import annotations

import gzip
from pathlib import Path

import numpy as np
from sklearn.datasets import load_digits


def idx_bytes(array: np.ndarray) -> bytes:
    """An unsigned-byte IDX file: magic 0x00 0x00 0x08 ndim, big-endian dims, then data."""
    header = bytes([0, 0, 8, array.ndim]) + np.asarray(array.shape, dtype=">i4").tobytes()
    return header + np.ascontiguousarray(array, dtype=np.uint8).tobytes()


def write_mnist_style(directory: Path, n_train: int = 60_000, n_test: int = 10_000,
                      seed: int = 0) -> Path:
    """Write digits-derived 28x28 images as MNIST's four gzipped IDX files into ``directory``."""
    rng = np.random.default_rng(seed)
    digits = load_digits()
    base = np.kron(digits.images / 16.0, np.ones((3, 3)))  # 8x8 -> 24x24
    directory.mkdir(parents=True, exist_ok=True)
    for stem, n in (("train", n_train), ("t10k", n_test)):
        pick = rng.integers(0, len(base), n)
        shifts = rng.integers(0, 5, (n, 2))
        images = np.zeros((n, 28, 28), dtype=np.uint8)
        for i, (k, (dy, dx)) in enumerate(zip(pick, shifts, strict=True)):
            images[i, dy:dy + 24, dx:dx + 24] = (base[k] * 255).astype(np.uint8)
        labels = digits.target[pick].astype(np.uint8)
        for name, array in ((f"{stem}-images-idx3-ubyte", images),
                            (f"{stem}-labels-idx1-ubyte", labels)):
            (directory / f"{name}.gz").write_bytes(gzip.compress(idx_bytes(array), 1))
    return directory
