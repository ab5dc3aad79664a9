"""Two smoke runs, each from an empty cache of its own (as two fresh clones would make them), give identical metrics.

`make test` re-runs the smoke notebooks on the first run's caches (tests/after_smoke); this slow test also rebuilds
every cache entry (converted models, activations, SAEs) twice, so that a result which depended on how or when a
cache entry was made would show. About 20 minutes on 2 cores."""
import os
import subprocess
import sys
from pathlib import Path

import pytest

from helpers.results import compare_runs

ROOT = Path(__file__).resolve().parents[1]


@pytest.mark.slow
def test_two_smoke_runs_from_empty_caches_give_identical_metrics(tmp_path):
    folders = []
    for name in ("first", "second"):
        cache = tmp_path / name / "cache"
        cache.mkdir(parents=True)
        env = {**os.environ, "INTERP_CACHE_DIR": str(cache)}
        done = subprocess.run([sys.executable, "-m", "helpers.runner", "run", "--profile", "smoke", "--prepare",
                               "--out", str(tmp_path / name / "runs")], cwd=ROOT, env=env, capture_output=True, text=True)
        assert done.returncode == 0, (done.stdout + done.stderr)[-3000:]
        folders.append(tmp_path / name / "runs" / "smoke")
    report = compare_runs(*folders)
    assert not report, "\n".join(f"{name}: {what}" for name, what in report.items())
