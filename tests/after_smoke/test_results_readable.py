"""A smoke run's results read as the paper's tables: every metric is described, the verdict rows are there, and the
main tables and metrics.csv can be read back."""
import csv

import pandas as pd

from conftest import FIRST
from helpers.papers import OTHER, describe_metric


def test_every_metric_has_a_label_and_a_paper_table(first_run):
    unknown = {name: [m for m in [*r["metrics"], *r["paper_reference"]] if describe_metric(name, m)["group"] == OTHER]
               for name, r in first_run.items()}
    assert not any(unknown.values()), f"metrics missing from helpers.papers.METRICS: {unknown}"


def test_verdicts_tables_and_metrics_csv_are_written(first_run):
    for name, r in first_run.items():
        assert r["verdicts"], f"{name} wrote no verdict rows"
        assert r["tables"], f"{name} saved no table"
        for table in r["tables"]: assert len(pd.read_csv(FIRST / name / table)) > 0, table
        rows = list(csv.DictReader((FIRST / name / "metrics.csv").open()))
        assert [row["metric"] for row in rows][:len(r["metrics"])] == list(r["metrics"])
        assert all(row["label"] and row["compares_with"] for row in rows)


def test_summary_shows_groups_and_verdicts():
    text = (FIRST / "summary.md").read_text()
    assert "**verdict:**" in text and "| quantity | this run | paper | metric |" in text
