"""The smoke run's verdicts follow the rules of `helpers.results`: no yes or no where the run cannot decide the claim,
and no paper value beside a run of another configuration (`helpers.papers.mismatched_paper_values`)."""
from helpers.papers import mismatched_paper_values
from helpers.results import answer


def test_no_paper_value_of_another_configuration(first_run):
    wrong = {name: mismatched_paper_values(name, r["paper_reference"], {**r["params"], **r["metrics"]}) for name, r in first_run.items()}
    assert not any(wrong.values()), f"paper values from another configuration than the run's: {wrong}"


def test_every_not_applicable_verdict_says_why(first_run):
    for name, r in first_run.items():
        for v in r["verdicts"]:
            assert (v["holds"] is None) == bool(v.get("why")), (name, v)


def test_two_probing_datasets_decide_nothing(first_run):
    r = first_run["sparse_probing"]
    assert r["metrics"]["n_datasets"] < 5, "the smoke profile probes 2 datasets"
    assert {answer(v) for v in r["verdicts"]} == {"not applicable"}, r["verdicts"]


def test_a_model_at_chance_gets_no_verdict_on_how_it_does_the_task(first_run):
    r = first_run["circular_features"]
    at_chance = [v for v in r["verdicts"] if "not above chance" in v.get("why", "")]
    assert at_chance and all(v["holds"] is None for v in at_chance)  # smollm2-135m answers 2 of 7 day-after prompts


def test_nested_fits_are_not_compared(first_run):
    links = {v["claim"].split(" (")[0]: v for v in first_run["helix_addition"]["verdicts"]}
    assert links["layer ≥ helix"]["holds"] is None and links["helix > circle"]["holds"] is None
    assert links["layer ≥ helix"]["why"].startswith("by construction")


def test_the_summary_counts_the_answers(first_run):
    from conftest import FIRST
    text = (FIRST / "summary.md").read_text()
    assert "verdicts: yes / no / not applicable" in text and "| **all** |" in text and "Sizes for testing" in text
