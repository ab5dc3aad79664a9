"""Run every benchmark, write `benchmarks/results/<machine>-<date>.json`, print the table (and with `--update-docs`
put it in `docs/performance.md`).

    python benchmarks/run_all.py [--only extraction sae ...] [--update-docs]

`first_run` (a fresh-cache `make reproduce` and its re-runs, about an hour on 2 cores) and `make_test` (`make test` in a
fresh clone with a cold cache, about 25 minutes) are what a user waits for; `--only` picks benchmarks.
"""
from __future__ import annotations

import argparse
import datetime
import json
import math
import re
import sys
import traceback
from pathlib import Path

import torch

from common import ROOT, machine, row

import bench_extraction, bench_first_run, bench_load, bench_patching, bench_probing, bench_sae, bench_switch, bench_toy_runs  # noqa: E401  (one per figure)

BENCHMARKS = {"extraction": bench_extraction.run, "sae": bench_sae.run, "probing": bench_probing.run,
              "switch": bench_switch.run, "patching": bench_patching.run, "toy_runs": bench_toy_runs.run, "busy_machine": bench_load.run,
              "first_run": bench_first_run.run, "make_test": bench_first_run.test_rows}
ORDER = [name.replace("_", " ") for name in [*BENCHMARKS, "gpu"]]  # the table's order, by the rows' benchmark names


def gpu_rows() -> list[dict]:
    "The SAE and Switch SAE figures again on the GPU, and the gpu profile from a fresh cache."
    if not torch.cuda.is_available():
        return [row("gpu", "extraction, SAE training and the gpu profile on a GPU", math.nan, "",
                    note="no CUDA device on this machine: not measured")]
    return bench_sae.run("cuda") + bench_switch.run("cuda") + bench_first_run.reproduce_rows("gpu")


def fmt(value) -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)): return "–"
    return f"{value:.3g}" if abs(value) < 1000 else f"{value:,.0f}"


def table(rows: list[dict]) -> str:
    lines = ["| benchmark | figure | value | unit | target | met | note |", "|---|---|---|---|---|---|---|"]
    for r in rows:
        met = {True: "yes", False: "**missed**", None: ""}[r["met"]]
        when = f" ({', '.join(x for x in (r.get('date'), r.get('cpu')) if x)})" if r.get("date") or r.get("cpu") else ""
        lines.append(f"| {r['benchmark']}{when} | {r['figure']} | {fmt(r['value'])} | {r['unit']} | {r['target']} | {met} | {r['note']} |")
    return "\n".join(lines)


def latest_rows(results: Path, machine_name: str, date: str, cpu: str) -> list[dict]:
    """Each benchmark's rows from the newest results file of this machine kind that has it; rows of other days carry
    their date, and rows measured on another CPU model its name."""
    newest = {}
    for path in sorted(results.glob(f"{machine_name}-*.json")):
        saved = json.loads(path.read_text())
        other_cpu = saved["machine"]["cpu"] if saved["machine"]["cpu"] != cpu else None
        for name in {r["benchmark"] for r in saved["rows"]} & set(ORDER):
            newest[name] = [{**r, "date": None if saved["date"] == date else saved["date"], "cpu": other_cpu}
                            for r in saved["rows"] if r["benchmark"] == name]
    return [r for name in ORDER for r in newest.get(name, [])]


def update_page(text: str) -> None:
    page = ROOT / "docs" / "performance.md"
    start, end = "<!-- benchmarks:start -->", "<!-- benchmarks:end -->"
    content = page.read_text()
    if start not in content: raise SystemExit(f"docs/performance.md has no {start} marker")
    page.write_text(re.sub(f"{start}.*?{end}", lambda _: f"{start}\n{text}\n{end}", content, flags=re.S))


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--only", nargs="*", choices=[*BENCHMARKS, "gpu"], help="run only these benchmarks")
    parser.add_argument("--update-docs", action="store_true")
    parser.add_argument("--docs-only", action="store_true", help="rewrite the page's table from the saved results, run nothing")
    args = parser.parse_args(argv)
    info, rows, failed = machine(), [], []
    results = ROOT / "benchmarks" / "results"
    if args.docs_only:
        newest = max(results.glob(f"{info['name']}-*.json"))
        update_page(page_header(json.loads(newest.read_text())) + "\n\n"
                      + table(latest_rows(results, info["name"], newest.stem.split("-", 1)[1], info["cpu"])))
        return 0
    for name in args.only or [*BENCHMARKS, "gpu"]:
        print(f"running {name} ...", file=sys.stderr, flush=True)
        try:
            if name == "gpu": rows += gpu_rows()
            else: rows += BENCHMARKS[name]()
        except Exception:
            failed.append(name)
            traceback.print_exc()
            rows.append(row(name, "benchmark failed", math.nan, "", note="see the log"))
    date = datetime.date.today().isoformat()
    results.mkdir(parents=True, exist_ok=True)
    path = results / f"{info['name']}-{date}.json"
    if args.only and path.exists():  # a partial re-run replaces its benchmarks' rows in the day's file
        rerun = {name.replace("_", " ") for name in args.only}
        rows = [r for r in json.loads(path.read_text())["rows"] if r["benchmark"] not in rerun] + rows
        rows.sort(key=lambda r: ORDER.index(r["benchmark"]) if r["benchmark"] in ORDER else len(ORDER))
    path.write_text(json.dumps({"date": date, "machine": info, "rows": rows}, indent=2, default=str))
    print(f"Measured on {date}: {_machine_text(info)}.\n\n" + table(rows))
    print(f"\nwritten: {path.relative_to(ROOT)}")
    if args.update_docs:  # every benchmark's latest figures on this machine kind, dated where not run today
        update_page(page_header({"date": date, "machine": info}) + "\n\n" + table(latest_rows(results, info["name"], date, info["cpu"])))
    return 1 if failed else 0


def _machine_text(info: dict) -> str:
    return (f"{info['cpu']}, {info['cores']} cores, {info['memory_gib']} GiB" + (f", {info['gpu']}" if info["gpu"] else ", no GPU")
            + f"; torch {info['torch']}")


def page_header(saved: dict) -> str:
    return (f"Latest measurements, {saved['date']}: {_machine_text(saved['machine'])}. A date beside a benchmark: measured that "
            "day, not re-run since; a CPU beside it: measured on that CPU model.")


if __name__ == "__main__":
    sys.exit(main())
