"""Two smoke runs on CPU give identical metrics; when they do not, the failure shows which metrics and which entries
of the environment record differ. Measured times (`helpers.papers.is_wall_clock`) are the one exception: both runs
must record them, as positive numbers, but the machine decides their values."""
import math

from helpers.papers import is_wall_clock


def differences(a: dict, b: dict) -> dict:
    return {k: (a.get(k), b.get(k)) for k in sorted(set(a) | set(b)) if a.get(k) != b.get(k)}


def test_two_smoke_runs_give_identical_metrics(first_run, second_run):
    second, _, _ = second_run
    assert set(second) == set(first_run)
    report = []
    for name, first in first_run.items():
        timed = {k for k in first["metrics"] if is_wall_clock(name, k)}
        assert timed == {k for k in second[name]["metrics"] if is_wall_clock(name, k)}, f"{name}: the runs timed different things"
        assert all(math.isfinite(run[k]) and run[k] > 0 for run in (first["metrics"], second[name]["metrics"]) for k in timed), name
        changed = differences({k: v for k, v in first["metrics"].items() if k not in timed},
                              {k: v for k, v in second[name]["metrics"].items() if k not in timed})
        if changed:
            env = differences(first["environment"], second[name]["environment"])
            params = differences(first["params"], second[name]["params"])
            report.append(f"{name}: metrics differ {changed}; environment differs {env or 'nowhere'}; "
                          f"parameters differ {params or 'nowhere'}")
    assert not report, "\n".join(report)
