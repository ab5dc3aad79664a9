"""Build the documentation site into `_site/`, offline.

Pages: a home page with every reproduction and a figure of each, one page per helper notebook (executed, with
the API documentation of its exported functions), one page per reproduction (the executed notebook of a runner
profile, run first when it is absent), that profile's `summary.md`, and the pages in `docs/*.md` that the README links to.

    python docs/build.py [--profile smoke] [--out _site]
"""
from __future__ import annotations

import argparse
import ast
import hashlib
import importlib
import json
import os
import re
import shutil
import subprocess
import sys
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

import nbformat

ROOT = Path(__file__).resolve().parents[1]
DOCS = ROOT / "docs"
sys.path.insert(0, str(ROOT))
from helpers.core import project_setting  # noqa: E402
from helpers.papers import PAPERS  # noqa: E402
from helpers.results import verdict_counts  # noqa: E402
from helpers.runner import SMOKE_NOTE  # noqa: E402

SKIP_FLAGS = set(project_setting("tst_flags").split())  # cells too slow (or needing a GPU) for a docs build


# ---- helper notebooks: nbdev directives -> myst-nb cell tags, exported functions -> API documentation

def _directives(source: str) -> tuple[dict, str]:
    "The cell's leading `#| ...` directives as {name: argument} and the source without them."
    lines, found = source.splitlines(), {}
    while lines and lines[0].startswith("#|"):
        name, _, arg = lines.pop(0)[2:].strip().partition(" ")
        found[name.rstrip(":")] = arg.strip()
    return found, "\n".join(lines)


def _public_names(source: str) -> list[str]:
    tree = ast.parse(source)
    return [n.name for n in tree.body if isinstance(n, (ast.FunctionDef, ast.ClassDef)) and not n.name.startswith("_")]


def _api_markdown(module, names: list[str]) -> str:
    from nbdev.showdoc import show_doc
    parts = []
    for name in names:
        if name in getattr(module, "__all__", []):
            parts.append(show_doc(getattr(module, name), title_level=4)._repr_markdown_().strip().removeprefix("---").strip())
    return "\n\n".join(parts)


def prepare_helper(path: Path) -> nbformat.NotebookNode:
    "A helper notebook with nbdev directives turned into cell tags and API documentation after each exported cell."
    nb = nbformat.read(path, as_version=4)
    module, cells = None, []
    for cell in nb.cells:
        if cell.cell_type != "code":
            cells.append(cell)
            continue
        found, cell.source = _directives(cell.source)
        tags = set(cell.metadata.get("tags", []))
        if "default_exp" in found:
            module = importlib.import_module(f"{project_setting('lib_path')}.{found['default_exp']}")
        if {"default_exp", "hide", "exporti"} & set(found) or found.get("echo") == "false": tags.add("remove-input")
        if "hide" in found or "default_exp" in found: tags.add("remove-cell")
        if found.get("eval") == "false" or SKIP_FLAGS & set(found): tags.add("skip-execution")
        if {"export", "exports"} & set(found): tags.add("hide-input")
        cell.metadata["tags"] = sorted(tags)
        cells.append(cell)
        if {"export", "exports"} & set(found) and module is not None:
            api = _api_markdown(module, _public_names(cell.source))
            if api: cells.append(nbformat.v4.new_markdown_cell(api, id=f"{cell.id}-api"[:64]))
    nb.cells = cells
    return nb


def _execute(args) -> str:
    "Execute one prepared notebook (in its own process, one torch thread) and write it; returns an error or ''."
    source, target, cwd = args
    os.environ["OMP_NUM_THREADS"] = "1"  # two notebooks at a time on two cores
    from nbclient import NotebookClient
    nb = nbformat.read(source, as_version=4)
    try:
        NotebookClient(nb, kernel_name=project_setting("jupyter_kernel"), timeout=1800,
                       resources={"metadata": {"path": str(cwd)}}).execute()
    except Exception as e:
        return f"{Path(source).name}: {type(e).__name__}: {str(e)[-500:]}"
    nbformat.write(nb, target)
    Path(source).unlink()
    return ""


def helper_pages(staging: Path, cache: Path, workers: int = 2) -> list[str]:
    "Prepare and execute every helper notebook (executions are cached by notebook and package contents)."
    package = hashlib.sha256(b"".join(p.read_bytes() for p in sorted((ROOT / "helpers").glob("*.py")))).hexdigest()
    out_dir = staging / "helpers"
    out_dir.mkdir(parents=True, exist_ok=True)
    cache.mkdir(parents=True, exist_ok=True)
    todo, names = [], []
    for path in sorted((ROOT / project_setting("nbs_path")).glob("[0-9][0-9]_*.ipynb")):
        nb = prepare_helper(path)
        text = nbformat.writes(nb)
        digest = hashlib.sha256((text + package).encode()).hexdigest()[:16]
        executed = cache / f"{path.stem}-{digest}.ipynb"
        if not executed.exists():
            for stale in cache.glob(f"{path.stem}-*.ipynb"): stale.unlink()  # older versions of this notebook
            pending = cache / f"{path.stem}-{digest}.prepared.ipynb"
            pending.write_text(text)
            todo.append((str(pending), str(executed), str(path.parent)))
        names.append((path.stem, executed))
    if todo:
        print(f"executing {len(todo)} helper notebook(s)", flush=True)
        with ProcessPoolExecutor(workers) as pool:
            errors = [e for e in pool.map(_execute, todo) if e]
        if errors: raise RuntimeError("helper notebooks failed to execute:\n" + "\n".join(errors))
    for stem, executed in names: shutil.copy(executed, out_dir / f"{stem}.ipynb")
    return [stem for stem, _ in names]


# ---- reproductions: the executed notebooks of a runner profile

def reproduction_pages(staging: Path, profile: str, runs: Path) -> dict[str, dict]:
    "Copy each reproduction's executed notebook (running the profile for those missing), code collapsed, with a header."
    from helpers.runner import discover, run, write_summary
    names = list(discover(ROOT / "paper_reproductions"))
    missing = [n for n in names if not (runs / profile / f"{n}.ipynb").exists()]
    if missing:
        print(f"no {profile} run of {missing}: running them", flush=True)
        run(missing, profile=profile, out=runs)
    (staging / "reproductions").mkdir(parents=True, exist_ok=True)
    info = {}
    for name in names:
        nb = nbformat.read(runs / profile / f"{name}.ipynb", as_version=4)
        try: results = json.loads((runs / profile / name / "results.json").read_text())
        except (FileNotFoundError, json.JSONDecodeError): results = None
        for cell in nb.cells:
            if cell.cell_type == "code":  # collapsed; without output and not parameters, left out of the page
                tags = set(cell.metadata.get("tags", []))
                quiet = not cell.get("outputs") and not {"parameters", "injected-parameters"} & tags
                cell.metadata["tags"] = sorted(tags | {"remove-cell" if quiet else "hide-input"})
        nb.cells.insert(1, nbformat.v4.new_markdown_cell(_run_header(nb, name, profile, results), id="run-header"))
        nb.metadata["mystnb"] = {"execution_mode": "off"}
        nbformat.write(nb, staging / "reproductions" / f"{name}.ipynb")
        info[name] = {"title": _title(nb), "results": results}
    summary = write_summary(runs, profile)
    shutil.copy(summary, staging / "summary.md")
    return info


def _title(nb) -> str:
    for cell in nb.cells:
        if cell.cell_type == "markdown" and (m := re.search(r"^# (.+)$", cell.source, re.M)): return m.group(1).strip()
    return ""


def _run_header(nb, name: str, profile: str, results: dict | None) -> str:
    "Where the paper and the authors' code are (unless the notebook says), and what run the page shows."
    paper = PAPERS.get(name, {})
    lines = []
    if paper and f"arxiv.org/abs/{paper['arxiv']}" not in nbformat.writes(nb):
        lines.append(f"**Paper:** [{paper['title']}](https://arxiv.org/abs/{paper['arxiv']}) (arXiv {paper['arxiv']}) · "
                     f"**Authors' code:** [{paper['repo']}](https://github.com/{paper['repo']})")
    if profile == "smoke": lines.append(SMOKE_NOTE)
    if results:
        env = results["environment"]
        lines.append(f"**This page:** the `{profile}` profile, model `{results['model']}`, on {env.get('device')} "
                     f"({env.get('device_name')}), {results['duration_s']:.0f} s; torch {env.get('torch')}. "
                     "Code cells are collapsed (click to show them); the download button gives the notebook.")
    else:
        lines.append(f"**This page:** the `{profile}` profile's run did not finish; its outputs are shown as far as they go.")
    return "\n\n".join(lines)


# ---- errors for bad input: the cases of tests/test_bad_input.py, run here for their real messages

def errors_page(staging: Path) -> None:
    import tempfile
    sys.path.insert(0, str(ROOT / "tests"))
    from test_bad_input import CASES, make_context, message
    with tempfile.TemporaryDirectory() as tmp:
        ctx = make_context(Path(tmp))
        rows = [(c.entry_point, c.bad_input, c.error.__name__, message(c, ctx).replace(tmp, "…").replace("|", "\\|"))
                for c in CASES]
    lines = ["# Errors for bad input", "",
             "Each public entry point checks its input before any heavy work (a forward pass, a checkpoint load, a "
             "training step) and says what to do. The table is produced by running the cases of "
             "`tests/test_bad_input.py`, which also asserts each of them.", "",
             "| entry point | bad input | error | message |", "|---|---|---|---|"]
    lines += [f"| `{e}` | {b} | `{k}` | {m} |" for e, b, k, m in rows]
    (staging / "errors.md").write_text("\n".join(lines) + "\n")


# ---- home page and the site

PAGES = ["running", "models", "caches", "performance", "reliability", "development"]  # docs/<page>.md, linked from the README


def readme_intro() -> str:
    "The README's title and opening paragraphs, the home page's introduction: one source for both."
    intro = (ROOT / "README.md").read_text().split("\n## ")[0]
    return intro + ("\nThe reproduction pages below show the executed notebooks of one runner profile (code collapsed; click "
                     "a cell to show its code). The pages under each paper's heading in the navigation are the helper "
                     "notebooks written for it, with their examples, checks and API documentation; [Running](running.md) "
                     "explains set-up, profiles and GPU use.\n")


def home_page(staging: Path, info: dict, profile: str, runs: Path, helpers: list[str]) -> None:
    "index.md: every reproduction with a figure each, navigation by paper, then the shared machinery."
    figures = staging / "figures"
    figures.mkdir(exist_ok=True)
    blocks, used = [readme_intro()], set()
    for name, page in info.items():
        paper = PAPERS.get(name, {})
        used.update(paper.get("helpers", []))
        blocks.append(f"## {paper.get('short', name)}: {page['title'] or name}\n")
        links = [f"[the reproduction](reproductions/{name}.ipynb)"]
        if paper:
            links += [f"[arXiv {paper['arxiv']}](https://arxiv.org/abs/{paper['arxiv']})",
                      f"[authors' code](https://github.com/{paper['repo']})"]
        blocks.append(" · ".join(links) + "\n")
        found = sorted((runs / profile / name / "figures").glob("*.png"))
        chosen = next((f for f in found if f.name == paper.get("figure")), found[0] if found else None)
        if chosen:
            shutil.copy(chosen, figures / f"{name}-{chosen.name}")
            blocks.append(f"```{{image}} figures/{name}-{chosen.name}\n:alt: {name}: {chosen.stem}\n:width: 90%\n```\n")
        if page["results"]:
            metrics, verdicts = page["results"]["metrics"], page["results"].get("verdicts", [])
            counts = verdict_counts(verdicts)
            blocks.append(f"{len(metrics)} metrics from the `{profile}` run beside the paper's values, grouped by the paper's "
                          f"tables, and {len(verdicts)} computed verdicts on its claims ({counts['yes']} yes, {counts['no']} no, "
                          f"{counts['not applicable']} not applicable), in the [summary](summary.md).\n")
    toc = []
    for name, page in info.items():
        helper_docs = "\n".join(f"helpers/{h}" for h in PAPERS.get(name, {}).get("helpers", []) if h in helpers)
        caption = PAPERS.get(name, {}).get("short", name)
        toc.append(f"```{{toctree}}\n:caption: {caption}\n:maxdepth: 1\n\nReproduction <reproductions/{name}>\n{helper_docs}\n```\n")
    shared = "\n".join(f"helpers/{h}" for h in helpers if h not in used)
    toc.append(f"```{{toctree}}\n:caption: Shared machinery\n:maxdepth: 1\n\n{shared}\n```\n")
    pages = "\n".join(PAGES)
    toc.append(f"```{{toctree}}\n:caption: Running and the rest\n:maxdepth: 1\n\n{pages}\nsummary\nerrors\n```\n")
    (staging / "index.md").write_text("\n".join(blocks + toc))


def build(profile: str = "smoke", out: Path = ROOT / "_site", runs: Path = ROOT / "runs") -> Path:
    staging, cache = ROOT / "_build" / "docs", ROOT / "_build" / "docs-exec"
    before = set(os.listdir(ROOT))
    shutil.rmtree(staging, ignore_errors=True)
    staging.mkdir(parents=True)
    shutil.copy(DOCS / "conf.py", staging / "conf.py")
    for page in PAGES: shutil.copy(DOCS / f"{page}.md", staging / f"{page}.md")
    shutil.copytree(DOCS / "_static", staging / "_static")
    helpers = helper_pages(staging, cache)
    info = reproduction_pages(staging, profile, Path(runs))
    errors_page(staging)
    home_page(staging, info, profile, Path(runs), helpers)
    # Sphinx builds inside _build/ (myst-nb writes jupyter_execute/ beside its output folder), then the site is copied out.
    html = ROOT / "_build" / "html"
    shutil.rmtree(html, ignore_errors=True)
    subprocess.run([sys.executable, "-m", "sphinx", "-b", "html", "-q", "-j", "2", "-d", str(ROOT / "_build" / "doctrees"),
                    str(staging), str(html)], check=True)
    shutil.rmtree(out, ignore_errors=True)
    shutil.copytree(html, out)
    stray = set(os.listdir(ROOT)) - before - {"_build", "_site", "runs", ".cache"}
    if stray: raise RuntimeError(f"the documentation build wrote outside _build/ and _site/: {sorted(stray)}")
    (Path(out) / ".nojekyll").touch()  # GitHub Pages: serve _static/ and _images/ as they are
    print(f"site: {Path(out) / 'index.html'}")
    return Path(out)


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--profile", default="smoke", help="the runner profile whose executed notebooks are shown")
    parser.add_argument("--out", default=str(ROOT / "_site"))
    parser.add_argument("--runs", default=str(ROOT / "runs"), help="the runner's output folder")
    args = parser.parse_args()
    build(args.profile, Path(args.out), Path(args.runs))
