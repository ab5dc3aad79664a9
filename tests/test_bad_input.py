"""Bad input to every public entry point fails at once with an error that says what to do.

`CASES` is also the source of the documentation's table of errors (docs/build.py runs each case and shows the message
it gives). `test_errors_come_before_heavy_work` replaces the forward pass and the checkpoint loading by functions that
fail the test, so an error raised only after heavy work is caught."""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Callable

import numpy as np
import pytest
import torch

from conftest import save_tiny
from helpers import grokking, harmonic, probes, probing_analysis, survival
from helpers import sae as saes


@dataclass
class Context:
    "What the cases need: a tiny model and a scratch folder."
    model: object
    tmp: Path
    notebooks: Path


@dataclass
class Case:
    entry_point: str
    bad_input: str
    call: Callable[[Context], object]
    error: type
    says: str  # a fragment of the message


def _runner_plan(ctx, *overrides, profile="smoke", names=("adds",)):
    from helpers.runner import parse_overrides, plan
    return plan(list(names), profile, parse_overrides(list(overrides)), ctx.notebooks, ctx.notebooks / "profiles")


def _collect(ctx, prompts=("the cat sat", "a mat"), **kwargs):
    from helpers.activations import collect_activations
    return collect_activations(ctx.model, list(prompts) if not isinstance(prompts, str) else prompts,
                               **{"layers": 0, "use_cache": False, "progress": False, **kwargs})


def _patch(ctx, site, layer):
    from helpers.patching import Patch, patched_logits
    return patched_logits(ctx.model, ["the cat sat"], [Patch(site, layer, -1, torch.zeros(1, 8))])


def _models(name, **kwargs):
    from helpers.models import load_model
    return lambda ctx: load_model(name, **kwargs)


Y = np.array([0, 1] * 20)
CASES = [
    Case("load_model", "unknown model name", _models("gpt-5"), ValueError, "Unknown model"),
    Case("load_model", "name of the wrong type", _models(42), TypeError, "non-empty string"),
    Case("load_model", "device that is absent (CUDA on a CPU machine, a GPU index beyond the last on a GPU one)",
         _models("toy-adder", device="cuda:99" if torch.cuda.is_available() else "cuda"), RuntimeError, "CUDA"),
    Case("load_model", "unknown device", _models("toy-adder", device="tpu"), ValueError, "Unknown device"),
    Case("load_model", "unknown dtype", _models("toy-adder", dtype="float8"), ValueError, "dtype must be"),
    Case("load_model", "folder that is not a checkpoint", lambda ctx: _models(str(ctx.tmp))(ctx), FileNotFoundError,
         "config.json"),
    Case("collect_activations", "empty prompt list", lambda ctx: _collect(ctx, []), ValueError, "No prompts"),
    Case("collect_activations", "one string instead of a list", lambda ctx: _collect(ctx, "the cat"), TypeError,
         "list of strings"),
    Case("collect_activations", "an empty prompt in the list", lambda ctx: _collect(ctx, ["the cat", ""]), TypeError,
         "non-empty strings"),
    Case("collect_activations", "layer out of range", lambda ctx: _collect(ctx, layers=7), IndexError, "layers"),
    Case("collect_activations", "position out of range", lambda ctx: _collect(ctx, positions=5), IndexError,
         "out of range"),
    Case("collect_activations", "unknown site", lambda ctx: _collect(ctx, sites="resid_mid"), ValueError, "Unknown site"),
    Case("patched_logits", "site outside the shared vocabulary", lambda ctx: _patch(ctx, "heads", 0), ValueError, "unknown site 'heads'"),
    Case("patched_logits", "residual point beyond the last", lambda ctx: _patch(ctx, "resid", 99), IndexError, "out of range"),
    Case("collect_activations", "batch size zero", lambda ctx: _collect(ctx, batch_size=0), ValueError, "batch_size"),
    Case("collect_activations", "max_length zero", lambda ctx: _collect(ctx, max_length=0), ValueError, "max_length"),
    Case("train_sae", "activations of the wrong shape", lambda ctx: saes.train_sae(torch.randn(10)),
         ValueError, "[n, d]"),
    Case("train_sae", "integer activations", lambda ctx: saes.train_sae(torch.ones(4, 3, dtype=torch.long)),
         TypeError, "floating point"),
    Case("train_sae", "unknown SAE kind", lambda ctx: saes.train_sae(torch.randn(8, 4), saes.SAETraining(kind="gated")),
         ValueError, "kind must be"),
    Case("train_sae", "k larger than the number of latents",
         lambda ctx: saes.train_sae(torch.randn(8, 4), saes.SAETraining(n_latents=4, k=5)), ValueError, "k must be"),
    Case("load_sae", "folder without an SAE", lambda ctx: saes.load_sae(ctx.tmp), FileNotFoundError,
         "cfg.json"),
    Case("load_binary", "unknown dataset name", lambda ctx: probes.load_binary("999_nope"),
         ValueError, "Unknown dataset"),
    Case("split_indices", "more training rows than the data holds",
         lambda ctx: probes.split_indices(Y, 200), ValueError, "cannot draw"),
    Case("split_indices", "positive ratio outside (0, 1)",
         lambda ctx: probes.split_indices(Y, 10, pos_ratio=1.5), ValueError, "pos_ratio"),
    Case("run_baselines", "unknown method",
         lambda ctx: probes.run_baselines(np.zeros((40, 3)), Y, np.zeros((4, 3)), Y[:4],
                                                                       methods=("svm",)), ValueError, "unknown methods"),
    Case("run_baselines", "rows and labels of different lengths",
         lambda ctx: probes.run_baselines(np.zeros((40, 3)), Y[:39], np.zeros((4, 3)), Y[:4]),
         ValueError, "differ in number"),
    Case("run_sae_probes", "training labels of one class",
         lambda ctx: probes.run_sae_probes(np.zeros((40, 3)), np.zeros(40), np.zeros((4, 3)), Y[:4]),
         ValueError, "two classes"),
    Case("load_paper_results", "folder that does not exist",
         lambda ctx: probing_analysis.load_paper_results(ctx.tmp / "none", "gemma-2-9b"),
         FileNotFoundError, "not a folder"),
    Case("train_many", "no runs", lambda ctx: grokking.train_many([]), ValueError, "at least one run"),
    Case("train_many", "a training set as large as the data", lambda ctx: grokking.train_many([grokking.ToyRun(train_num=55)]),
         ValueError, "train_num must lie in 1..54"),
    Case("harmonic train_many", "runs whose training sets differ in size", lambda ctx: harmonic.train_many(
        [harmonic.HarmonicRun("circle", "H_MLP"), harmonic.HarmonicRun("permutation", "H_MLP")]), ValueError, "one size"),
    Case("harmonic make_task", "a dataset the paper does not have", lambda ctx: harmonic.make_task("mnist", 0), ValueError, "unknown dataset"),
    Case("harmonic HarmonicRun", "a regulariser setting that does not exist", lambda ctx: harmonic.train_many(
        [harmonic.HarmonicRun(regulariser="on")]), ValueError, "regulariser must be"),
    Case("survival_split", "a training fraction outside (0, 1)", lambda ctx: survival.survival_split(0, 1.5), ValueError,
         "fraction must lie in (0, 1)"),
    Case("runner", "profile that does not exist", lambda ctx: _runner_plan(ctx, profile="fast"), ValueError,
         "Unknown profile"),
    Case("runner", "parameter the notebook does not have", lambda ctx: _runner_plan(ctx, "bogus=1"), ValueError,
         "no parameter 'bogus'"),
    Case("runner", "parameter value of the wrong type", lambda ctx: _runner_plan(ctx, "n=four"), TypeError, "expects int"),
    Case("runner", "unknown notebook name", lambda ctx: _runner_plan(ctx, names=("nope",)), ValueError,
         "Unknown notebook"),
]


def make_context(tmp: Path) -> Context:
    "A tiny Llama checkpoint, an empty folder, and a one-notebook project for the runner cases."
    from helpers.models import load_model
    from test_runner import WRITES_RESULTS, make_notebook
    notebooks = tmp / "notebooks"
    (notebooks / "profiles").mkdir(parents=True)
    make_notebook(notebooks / "adds.ipynb", WRITES_RESULTS)
    (notebooks / "profiles" / "smoke.yaml").write_text("adds: {}\n")
    (tmp / "empty").mkdir()
    return Context(load_model(save_tiny("llama", tmp / "tiny"), device="cpu"), tmp / "empty", notebooks)


def message(case: Case, ctx: Context) -> str:
    "The error message a case gives; AssertionError if it gives none or another kind."
    try: case.call(ctx)
    except case.error as e: return str(e)
    raise AssertionError(f"{case.entry_point} with {case.bad_input}: no {case.error.__name__} raised")


@pytest.fixture(scope="module")
def ctx(tmp_path_factory):
    return make_context(tmp_path_factory.mktemp("bad-input"))


@pytest.mark.parametrize("case", CASES, ids=[f"{c.entry_point}: {c.bad_input}" for c in CASES])
def test_bad_input_gets_a_clear_error(case, ctx):
    text = message(case, ctx)
    assert case.says in text, f"message {text!r} does not say {case.says!r}"


def test_errors_come_before_heavy_work(ctx, monkeypatch):
    "No case reaches a forward pass, a checkpoint load or a training step: each of those fails the test if entered."
    import transformers
    from helpers import activations, toy_models
    from helpers import models as registry
    def heavy(*args, **kwargs): raise AssertionError("heavy work started before the input was checked")
    monkeypatch.setattr(activations, "_trace_batch", heavy)
    monkeypatch.setattr(activations, "_hook_batch", heavy)
    monkeypatch.setattr(type(ctx.model), "trace", heavy)
    monkeypatch.setattr(toy_models, "toy_checkpoint", heavy)
    monkeypatch.setattr(registry, "toy_checkpoint", heavy)  # load_model's own reference to it
    monkeypatch.setattr(transformers.AutoModelForCausalLM, "from_pretrained", heavy)
    monkeypatch.setattr(torch.optim, "Adam", heavy)
    monkeypatch.setattr(probes, "select_and_fit", heavy)
    for case in CASES: message(case, ctx)
