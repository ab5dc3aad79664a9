"""Execute the helper notebooks in place, so that their example cells keep their outputs (as fastcore's and execnb's
notebooks do) and a reader on GitHub sees values. Cells flagged slow or gpu, or `eval: false`, are not executed and
keep the outputs they have (from a run with those flags forced, e.g. `nbdev_test --flags slow`).
Run `nbdev_clean` afterwards (`make outputs` does both).

    python docs/fill_outputs.py [nbs/03_toy_models.ipynb ...]
"""
from __future__ import annotations

import os
import sys
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

import nbformat

sys.path.insert(0, str(Path(__file__).resolve().parent))
from build import ROOT, SKIP_FLAGS, _directives  # noqa: E402
from helpers.core import project_setting  # noqa: E402

SKIP_TAG = "skip-execution"  # nbclient's tag for cells it must not run


def fill(path: str) -> str:
    "Execute one notebook in place (one torch thread, no progress bars); returns an error or ''."
    os.environ.update(OMP_NUM_THREADS="1", TQDM_DISABLE="1")
    from nbclient import NotebookClient
    nb = nbformat.read(path, as_version=4)
    skipped = []
    for cell in nb.cells:
        if cell.cell_type != "code": continue
        found, _ = _directives(cell.source)
        if found.get("eval") == "false" or SKIP_FLAGS & set(found):
            cell.metadata["tags"] = [*cell.metadata.get("tags", []), SKIP_TAG]  # its committed outputs, if any, are kept
            skipped.append(cell)
    try:
        NotebookClient(nb, kernel_name=project_setting("jupyter_kernel"), timeout=1800,
                       resources={"metadata": {"path": str(Path(path).parent)}}).execute()
    except Exception as e:
        return f"{Path(path).name}: {type(e).__name__}: {str(e)[-500:]}"
    for cell in nb.cells:  # warnings and progress on stderr are noise to a reader
        if cell.cell_type == "code" and cell not in skipped:
            cell.outputs = [o for o in cell.outputs if not (o.output_type == "stream" and o.name == "stderr")]
    for cell in skipped: cell.metadata["tags"] = [t for t in cell.metadata["tags"] if t != SKIP_TAG]
    for cell in skipped:
        if not cell.metadata["tags"]: del cell.metadata["tags"]
    nbformat.write(nb, path)
    return ""


def main(paths: list[str]) -> int:
    paths = paths or [str(p) for p in sorted((ROOT / project_setting("nbs_path")).glob("[0-9][0-9]_*.ipynb"))]
    failed = 0
    with ProcessPoolExecutor(2) as pool:
        for path, error in zip(paths, pool.map(fill, paths)):
            print(error or f"{Path(path).name}: outputs written", flush=True)
            failed += bool(error)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
