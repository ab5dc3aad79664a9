"""Two smoke runs on CPU give identical metrics (`helpers.results.compare_runs`); when they do not, the failure shows
which metrics, and which entries of the environment record and parameters, differ. Measured times
(`helpers.papers.is_wall_clock`) are the one exception: both runs must record them, but the machine decides their values."""
import math

from conftest import FIRST
from helpers.papers import is_wall_clock
from helpers.results import compare_runs


def test_two_smoke_runs_give_identical_metrics(first_run, second_run):
    second, folder, _ = second_run
    assert set(second) == set(first_run)
    report = compare_runs(FIRST, folder)
    assert not report, "\n".join(f"{name}: {what}" for name, what in report.items())


def test_both_runs_record_their_measured_times(first_run, second_run):
    second, _, _ = second_run
    for name, first in first_run.items():
        for run in (first, second[name]):
            assert all(math.isfinite(v) and v > 0 for k, v in run["metrics"].items() if is_wall_clock(name, k)), name
