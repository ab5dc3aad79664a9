"""The forward-pass plan (helpers.plans) against the passes the first smoke run made, notebook by notebook."""
from helpers.plans import NOTEBOOK_PASSES


def test_the_smoke_runs_forward_passes_are_those_the_plan_counts(first_run):
    for name, results in first_run.items():
        ran = results["forward_passes"]["sequences"] + results["forward_passes"]["cached_sequences"]
        steps = NOTEBOOK_PASSES[name](results["params"])
        fewest, most = sum(s.fewest for s in steps), sum(s.most for s in steps)
        assert fewest <= ran <= most, f"{name}: ran {ran:,} prompts, the plan says {fewest:,} to {most:,}"
