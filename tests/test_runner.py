"""The papermill runner end to end, on small notebooks made for the test and cleaned by nbdev_clean."""
import json
import subprocess
import sys
from pathlib import Path

import nbformat
import pytest

ROOT = Path(__file__).resolve().parents[1]
BIN = Path(sys.executable).parent

PARAMETERS = "seed = 0  # the seed\nn = 3  # how many numbers\nprofile = 'manual'\nresults_dir = None"

WRITES_RESULTS = """\
import time, matplotlib
matplotlib.use("Agg")
import matplotlib.pyplot as plt
from helpers.results import save_figure, write_results, resolve_results_dir
started = time.time()
folder = resolve_results_dir(results_dir, "adds")
total = sum(range(n)) + seed
fig, ax = plt.subplots(); ax.plot(range(n)); save_figure(fig, "numbers", folder)
write_results(folder, paper="A test paper", notebook="adds", profile=profile, model="none",
              params={"seed": seed, "n": n}, metrics={"total": total}, paper_reference={"total": 3},
              started=started, device="cpu")
"""

RAISES = 'print("before the error")\nraise RuntimeError("this notebook fails on purpose")'


def make_notebook(path: Path, *cells: str, parameters: str = PARAMETERS):
    nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(parameters, metadata={"tags": ["parameters"]}),
                                         *[nbformat.v4.new_code_cell(c) for c in cells]])
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    nbformat.write(nb, path)
    subprocess.run([BIN / "nbdev_clean", "--fname", str(path)], cwd=ROOT, check=True)
    assert nbformat.read(path, as_version=4).cells[0].metadata["tags"] == ["parameters"]


@pytest.fixture
def project(tmp_path):
    nbs = tmp_path / "nbs"
    (nbs / "profiles").mkdir(parents=True)
    make_notebook(nbs / "adds.ipynb", WRITES_RESULTS)
    make_notebook(nbs / "breaks.ipynb", RAISES)
    (nbs / "profiles" / "smoke.yaml").write_text("adds:\n  n: 4\nbreaks: {}\n")
    return nbs, tmp_path / "runs"


def runner(nbs, out, *args):
    cmd = [sys.executable, "-m", "helpers.runner", "run", *args, "--notebooks-dir", str(nbs),
           "--profiles-dir", str(nbs / "profiles"), "--out", str(out)]
    return subprocess.run(cmd, capture_output=True, text=True, cwd=ROOT)


def test_profile_and_overrides_are_injected_into_a_cleaned_notebook(project):
    nbs, out = project
    done = runner(nbs, out, "adds", "--profile", "smoke", "-p", "seed=10")
    assert done.returncode == 0, done.stderr
    results = json.loads((out / "smoke" / "adds" / "results.json").read_text())
    assert results["params"] == {"seed": 10, "n": 4}
    assert results["metrics"]["total"] == 0 + 1 + 2 + 3 + 10
    assert results["profile"] == "smoke" and results["figures"] == ["figures/numbers.png"]
    assert (out / "smoke" / "adds" / "figures" / "numbers.png").stat().st_size > 0
    assert "params_hash" in results


@pytest.mark.parametrize("override, message", [("bogus=1", "no parameter 'bogus'"),
                                               ("n=four", "expects int, got str"),
                                               ("adds.seed=1.5", "expects int, got float")])
def test_bad_parameters_are_refused_before_anything_runs(project, override, message):
    nbs, out = project
    done = runner(nbs, out, "--profile", "smoke", "-p", override)
    assert done.returncode == 2 and message in done.stderr
    assert not out.exists()  # nothing executed, nothing written


def test_unknown_profile_is_refused(project):
    nbs, out = project
    done = runner(nbs, out, "--profile", "fast")
    assert done.returncode == 2 and "Unknown profile 'fast'" in done.stderr


def test_a_profile_that_names_notebooks_runs_only_those(project):
    "As the ndif profile names only the notebooks whose models NDIF hosts; one that names none (smoke) runs every notebook."
    nbs, out = project
    (nbs / "profiles" / "ndif.yaml").write_text("adds:\n  n: 6\n")
    done = runner(nbs, out, "--profile", "ndif")
    assert done.returncode == 0, done.stderr
    assert sorted(p.parent.name for p in (out / "ndif").glob("*/results.json")) == ["adds"]


def test_a_failing_notebook_keeps_its_output_and_the_others_still_run(project):
    nbs, out = project
    done = runner(nbs, out, "breaks", "adds", "--profile", "smoke")
    assert done.returncode == 1
    executed = nbformat.read(out / "smoke" / "breaks.ipynb", as_version=4)
    outputs = [o for c in executed.cells for o in c.get("outputs", [])]
    assert any("before the error" in o.get("text", "") for o in outputs)
    assert any(o.get("ename") == "RuntimeError" for o in outputs)
    assert (out / "smoke" / "adds" / "results.json").exists()
    summary = (out / "smoke" / "summary.md").read_text()
    assert "| breaks | failed |" in summary and "this notebook fails on purpose" in summary
    assert "| adds | ok |" in summary and "| total | 6 | 3 |" in summary


def test_resume_skips_finished_notebooks_and_reruns_changed_ones(project):
    nbs, out = project
    assert runner(nbs, out, "adds", "--profile", "smoke").returncode == 0
    results = out / "smoke" / "adds" / "results.json"
    first = results.stat().st_mtime_ns
    again = runner(nbs, out, "adds", "--profile", "smoke", "--resume")
    assert again.returncode == 0 and results.stat().st_mtime_ns == first
    assert "| adds | skipped |" in (out / "smoke" / "summary.md").read_text()
    changed = runner(nbs, out, "adds", "--profile", "smoke", "--resume", "-p", "n=5")
    assert changed.returncode == 0 and results.stat().st_mtime_ns != first
    assert json.loads(results.read_text())["params"]["n"] == 5
    assert json.loads(results.read_text())["params_injected"]["n"] == 5  # the runner records what papermill injected


def test_report_rebuilds_the_summary_from_files(project):
    nbs, out = project
    runner(nbs, out, "--profile", "smoke")
    (out / "smoke" / "summary.md").unlink()
    done = subprocess.run([sys.executable, "-m", "helpers.runner", "report", "--profile", "smoke", "--out", str(out)],
                          capture_output=True, text=True, cwd=ROOT)
    assert done.returncode == 0
    assert "| breaks | failed |" in done.stdout and "| adds | ok |" in done.stdout


def test_list_shows_parameters_with_defaults(project):
    nbs, _ = project
    done = subprocess.run([sys.executable, "-m", "helpers.runner", "list", "--notebooks-dir", str(nbs),
                           "--profile", "smoke"], capture_output=True, text=True, cwd=ROOT)
    assert done.returncode == 0
    assert "n = 3  [smoke: 4]  # how many numbers" in done.stdout


PREPARES = """\
from pathlib import Path
from helpers.core import progress_bar
for _ in progress_bar(range(2), "building the cache", every=0.0): pass
Path(results_dir).parent.joinpath(f"prepared-{n}").write_text("ready")
"""


def test_prepare_runs_only_the_tagged_cells_and_relays_their_progress(project):
    nbs, out = project
    nb = nbformat.read(nbs / "adds.ipynb", as_version=4)
    nb.cells.insert(1, nbformat.v4.new_code_cell(PREPARES, metadata={"tags": ["prepare"]}))
    nbformat.write(nb, nbs / "adds.ipynb")
    done = subprocess.run([sys.executable, "-m", "helpers.runner", "prepare", "adds", "--notebooks-dir", str(nbs),
                           "--profiles-dir", str(nbs / "profiles"), "--out", str(out)], capture_output=True, text=True, cwd=ROOT)
    assert done.returncode == 0, done.stderr
    assert (out / "smoke" / "prepared-4").read_text() == "ready"  # the profile's n = 4 reached the preparation
    assert not (out / "smoke" / "adds" / "results.json").exists()  # the untagged cells did not run
    assert "adds | building the cache: 2 in 0m00s (done)" in done.stderr
    assert "preparation of adds: ok" in done.stderr
    executed = nbformat.read(out / "smoke" / "prepare" / "adds.ipynb", as_version=4)
    assert [o.text for c in executed.cells for o in c.get("outputs", []) if o.output_type == "stream"] == ["building the cache: 2 in 0m00s\n"]

    done = runner(nbs, out, "adds", "breaks", "--prepare")  # preparation first, then every notebook; breaks has nothing to prepare
    assert done.returncode == 1 and "preparation of breaks: skipped" in done.stderr
    assert json.loads((out / "smoke" / "adds" / "results.json").read_text())["metrics"]["total"] == 6


def test_the_local_executor_runs_each_notebook_as_a_job_and_gives_the_serial_results(project, tmp_path):
    "Two notebooks as submitit jobs on this machine, two at once: the serial run's metrics, the failure kept and summarised."
    nbs, out = project
    serial = runner(nbs, out, "adds", "--profile", "smoke")
    assert serial.returncode == 0, serial.stderr
    local_out = tmp_path / "local"
    done = runner(nbs, local_out, "breaks", "adds", "--profile", "smoke", "--executor", "local", "--jobs", "2")
    assert done.returncode == 1, done.stderr  # one notebook failed
    said = done.stdout + done.stderr
    assert "adds: job" in said and "breaks: failed" in said and "submitit INFO" not in said
    first, second = (json.loads((o / "smoke" / "adds" / "results.json").read_text()) for o in (out, local_out))
    assert first["metrics"] == second["metrics"]
    executed = nbformat.read(local_out / "smoke" / "breaks.ipynb", as_version=4)
    assert any(o.get("ename") == "RuntimeError" for c in executed.cells for o in c.get("outputs", []))
    summary = (local_out / "smoke" / "summary.md").read_text()
    assert "| breaks | failed |" in summary and "this notebook fails on purpose" in summary and "| adds | ok |" in summary
    assert list((local_out / "smoke" / "jobs").iterdir()), "submitit keeps each job's logs"


def test_the_slurm_executor_submits_a_paper_run_as_one_job_array(project, tmp_path):
    "Against a stand-in `sbatch` that keeps the script it is given: the paper profile's `slurm:` block (a flag wins), its grid as an array, this venv's Python."
    import os
    nbs, out = project
    (nbs / "profiles" / "paper.yaml").write_text(
        "adds:\n  n: 10\ngrid:\n  adds.seed: [0, 1]\n"
        "slurm:\n  partition: gpu\n  time: 600\n  gpus: 1\n  mem_gb: 64\n  cpus: 8\n  setup: ['module load cuda/12.4', 'export HF_HOME=/shared/hf']\n")
    bin_dir, kept = tmp_path / "bin", tmp_path / "kept"
    bin_dir.mkdir(); kept.mkdir()
    # each script kept in submission order: the preparation's, then the array's
    (bin_dir / "sbatch").write_text(f'#!/bin/sh\ncp "$1" "{kept}/script$(ls "{kept}" | wc -l).sh"\necho "Submitted batch job 4242"\n')
    (bin_dir / "srun").write_text("#!/bin/sh\nexit 1\n")  # submitit looks for it before it submits
    for tool in ("sbatch", "srun"): (bin_dir / tool).chmod(0o755)
    cmd = [sys.executable, "-m", "helpers.runner", "run", "adds", "--profile", "paper", "--notebooks-dir", str(nbs),
           "--profiles-dir", str(nbs / "profiles"), "--out", str(out), "--executor", "slurm", "--no-wait", "--prepare",
           "--slurm", "account=interp", "--slurm", "time=120"]
    done = subprocess.run(cmd, capture_output=True, text=True, cwd=ROOT, env={**os.environ, "PATH": f"{bin_dir}:{os.environ['PATH']}"})
    assert done.returncode == 0, done.stderr
    submitted = json.loads((out / "paper" / "jobs" / "submitted.json").read_text())
    assert submitted == {"preparation": "4242", "adds/seed=0": "4242_0", "adds/seed=1": "4242_1"}
    preparation, script = (kept / "script0.sh").read_text(), (kept / "script1.sh").read_text()
    assert "--array" not in preparation and "#SBATCH --dependency=afterok:4242" in script  # the array waits for the preparation
    for line in ("#SBATCH --partition=gpu", "#SBATCH --account=interp", "#SBATCH --time=120", "#SBATCH --gpus-per-node=1",
                 "#SBATCH --mem=64GB", "#SBATCH --cpus-per-task=8", "#SBATCH --array=0-1%2", "module load cuda/12.4",
                 "export HF_HOME=/shared/hf", str(Path(sys.executable))):
        assert line in script, line
    assert f"--output={out / 'paper' / 'jobs'}/%A_%a/%A_%a_0_log.out" in script
    bad = subprocess.run([*cmd, "--slurm", "gpu=1"], capture_output=True, text=True, cwd=ROOT)
    assert bad.returncode == 2 and "--slurm takes KEY=VALUE" in bad.stderr


GRID_CELL_FAILS = 'assert seed != 1, "seed 1 fails on purpose"'
COUNTS = 'from helpers.core import progress_bar\nfor _ in progress_bar(range(2), "counting", every=0.0): pass'


def test_a_grid_runs_one_job_per_cell_and_summarises_the_cells(project):
    "Three seeds through the local executor: a failing cell keeps its traceback in the summary, the others their results, and the grid its table."
    nbs, out = project
    make_notebook(nbs / "picky.ipynb", GRID_CELL_FAILS, COUNTS, WRITES_RESULTS)
    done = runner(nbs, out, "picky", "--profile", "smoke", "--executor", "local", "--jobs", "2", "--grid", "seed=0,1,2")
    assert done.returncode == 1, done.stderr
    assert "picky/seed=2 | counting: 2 in" in done.stdout  # a job's progress, relayed from its log
    assert "IPKernelApp" not in done.stdout + done.stderr  # the kernel's own lines stay in the job's log
    cells = {p.parent.name: json.loads(p.read_text()) for p in (out / "smoke" / "picky").glob("*/results.json")}
    assert sorted(cells) == ["seed=0", "seed=2"]
    assert cells["seed=2"]["grid_cell"] == {"seed": 2} and cells["seed=2"]["metrics"]["total"] == 0 + 1 + 2 + 2
    summary = (out / "smoke" / "summary.md").read_text()
    assert "| picky/seed=1 | failed |" in summary and "seed 1 fails on purpose" in summary
    assert "### picky: a grid of 2 cells" in summary
    assert "| total | 4 | 1.414 | 3 to 5 | 2 | 3 | `total` |" in summary  # mean, sd, range over the cells, the paper's value
    again = runner(nbs, out, "picky", "--profile", "smoke", "--grid", "seed=0,1,2", "--resume")  # serial this time
    assert again.returncode == 1
    assert "| picky/seed=0 | skipped |" in (out / "smoke" / "summary.md").read_text()
    bad = runner(nbs, out, "picky", "--profile", "smoke", "--grid", "seeds=0,1")
    assert bad.returncode == 2 and "no parameter 'seeds'" in bad.stderr


def test_report_collects_the_jobs_submitted_without_waiting(project, tmp_path):
    "A job still running is listed as such; one that died gives its traceback (as submitit leaves it) to the summary."
    import os
    from submitit.core.utils import cloudpickle_dump
    nbs, out = project
    bin_dir = tmp_path / "bin"; bin_dir.mkdir()
    (bin_dir / "sbatch").write_text('#!/bin/sh\necho "Submitted batch job 77"\n')
    (bin_dir / "srun").write_text("#!/bin/sh\nexit 1\n")
    for tool in ("sbatch", "srun"): (bin_dir / tool).chmod(0o755)
    env = {**os.environ, "PATH": f"{bin_dir}:{os.environ['PATH']}"}
    common = ["--profile", "smoke", "--out", str(out)]
    submit = [sys.executable, "-m", "helpers.runner", "run", "adds", *common, "--notebooks-dir", str(nbs),
              "--profiles-dir", str(nbs / "profiles"), "--executor", "slurm", "--no-wait"]
    assert subprocess.run(submit, capture_output=True, text=True, cwd=ROOT, env=env).returncode == 0
    report = [sys.executable, "-m", "helpers.runner", "report", *common]
    running = subprocess.run(report, capture_output=True, text=True, cwd=ROOT)
    assert "| adds | running |" in running.stdout and "job 77 has not finished" in running.stdout
    cloudpickle_dump(("error", "Traceback (most recent call last):\nMemoryError: the node ran out"), out / "smoke" / "jobs" / "77" / "77_0_result.pkl")
    died = subprocess.run(report, capture_output=True, text=True, cwd=ROOT)
    assert "| adds | failed |" in died.stdout and "MemoryError: the node ran out" in died.stdout
