"""Driver process for the kill-and-resume test.

python -m tests.tune.resume_driver ADDRESS STORAGE MARKER_DIR {start,resume}
Connects to the test session's Ray cluster, so killing this process kills only the driver.
"""

from __future__ import annotations

import json
import sys

import ray
from ray import tune

from tests.tune.toy import pbt_style_trainable
from tune_gamma import GammaSearcher, RoundScheduler

ROUNDS, SAMPLES = 4, 3


def main() -> None:
    address, storage, marker_dir, mode = sys.argv[1:5]
    ray.init(address=address, log_to_driver=False)
    scheduler = RoundScheduler(rounds=ROUNDS)
    tune.run(pbt_style_trainable,
             config={"lr": tune.uniform(0.01, 0.5), "marker_dir": marker_dir, "sleep": 0.3},
             search_alg=GammaSearcher(samples_per_round=SAMPLES, seed=11), scheduler=scheduler,
             metric="kappa", mode="max", num_samples=-1, reuse_actors=True,
             storage_path=storage, name="killed", verbose=0, raise_on_failed_trial=False,
             resume=(mode == "resume"))
    print(json.dumps({"schedule": scheduler.schedule}))


if __name__ == "__main__":
    main()
