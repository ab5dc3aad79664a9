"""Run by `make dry-run` after the paper and gpu dry runs (`pytest --confcutdir tests/after_dry_run tests/after_dry_run`).

The ndif profile's dry run is started here, as a user would start it (`python -m helpers.runner run --profile ndif
--dry-run`), with a planted NDIF key in its environment: every trace goes through nnsight's simulation of NDIF, and
the key must appear in none of its outputs."""
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
RUNS = ROOT / "runs"
PLANTED_NDIF_KEY = "ndif_PLANTEDkeyForTheLeakTest0123456789abcdef"


@pytest.fixture(scope="session")
def ndif_dry_run():
    "The runner's output (stdout and stderr) of the ndif dry run, whose results are in runs/ndif-dry/."
    env = {**os.environ, "NDIF_API_KEY": PLANTED_NDIF_KEY}
    done = subprocess.run([sys.executable, "-m", "helpers.runner", "run", "--profile", "ndif", "--dry-run"],
                          cwd=ROOT, env=env, capture_output=True, text=True)
    log = done.stdout + done.stderr
    print(log[-3000:])
    assert done.returncode == 0, f"the ndif dry run failed:\n{log[-5000:]}"
    return log
