"""Two smoke runs on CPU give identical metrics; when they do not, the failure shows which metrics and which entries
of the environment record differ."""


def differences(a: dict, b: dict) -> dict:
    return {k: (a.get(k), b.get(k)) for k in sorted(set(a) | set(b)) if a.get(k) != b.get(k)}


def test_two_smoke_runs_give_identical_metrics(first_run, second_run):
    second, _, _ = second_run
    assert set(second) == set(first_run)
    report = []
    for name, first in first_run.items():
        changed = differences(first["metrics"], second[name]["metrics"])
        if changed:
            env = differences(first["environment"], second[name]["environment"])
            params = differences(first["params"], second[name]["params"])
            report.append(f"{name}: metrics differ {changed}; environment differs {env or 'nowhere'}; "
                          f"parameters differ {params or 'nowhere'}")
    assert not report, "\n".join(report)
