"""json_safe: what run records pass through before strict JSON."""

from __future__ import annotations

import json
import math

import numpy as np

from tune_gamma.json_safe import json_safe


def test_non_finite_numbers_become_null_and_numpy_scalars_plain() -> None:
    record = {"kappa": math.nan, "loss": np.float32("inf"), "lr": np.float64(0.05),
              "epochs": np.int64(3), 7: (1.0, -math.inf, [np.nan, "ok"])}
    safe = json_safe(record)
    assert safe == {"kappa": None, "loss": None, "lr": 0.05, "epochs": 3,
                    "7": [1.0, None, [None, "ok"]]}
    assert type(safe["lr"]) is float and type(safe["epochs"]) is int
    json.dumps(safe, allow_nan=False)  # strict JSON now
