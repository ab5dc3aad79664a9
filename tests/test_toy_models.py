"""Toy models: tokenizers, determinism, and the accuracy the reproductions rely on."""
import os
import subprocess
import sys
from dataclasses import asdict, replace

import pytest
import torch

from helpers import toy_models
from helpers.layouts import hf_module
from helpers.models import REGISTRY, folder_sha256, load_model
from helpers.tasks import CALENDAR, addition_problems, addition_prompt, calendar_problems, calendar_prompt
from helpers.toy_models import (HELD_OUT_TEMPLATES, TOY_RECIPES, TRAIN_TEMPLATES, ToyRecipe, answer_token, calendar_sentences,
                                evaluate_toy, number_sentences, organisms_dir, task_texts, toy_checkpoint, toy_recipe,
                                train_toy, training_log, weights_sha256, word_tokenizer)

MARGIN = 0.02  # the slow test asks every seed for 0.97: another CPU's rounding must not be able to sink a model


ORGANISMS = [name for name, spec in REGISTRY.items() if spec.toy]


@pytest.fixture(autouse=True)
def isolated_cache():
    "Toy checkpoints of other recipes live in the project cache, so that a trained model is reused by later runs and notebooks."
    yield


def test_the_registry_pins_every_recipe_and_nothing_else():
    assert ORGANISMS == list(TOY_RECIPES)


@pytest.mark.parametrize("name", ORGANISMS)
def test_committed_organism_files_match_their_pinned_sha256(name):
    folder = organisms_dir() / name
    files = sorted(p.name for p in folder.iterdir())
    assert files == ["config.json", "generation_config.json", "model.safetensors", "tokenizer.json", "tokenizer_config.json",
                     "toy_recipe.json"], files
    assert folder_sha256(folder) == REGISTRY[name].sha256, (
        f"{folder} differs from the SHA-256 pinned in helpers.models.REGISTRY: restore it with git, or run `make organisms`")


@pytest.mark.parametrize("name", ORGANISMS)
def test_committed_organism_was_trained_from_the_current_recipe(name):
    "A recipe changed without new files fails here, with the command that makes them."
    trained = training_log(organisms_dir() / name)
    assert trained["recipe"] == asdict(toy_recipe(name)), (
        f"{name}: TOY_RECIPES changed since its files were trained: run `make organisms` and commit the new files")
    assert trained["provenance"]["recipe_digest"] == toy_recipe(name).digest(), f"{name}: run `make organisms`"
    assert set(trained["provenance"]) >= {"recipe_digest", "commit", "torch", "cpu", "trained_on"}


def test_loading_a_registered_organism_makes_no_training_call(monkeypatch):
    def no_training(*args, **kwargs): raise AssertionError("a registered organism was trained instead of loaded")
    monkeypatch.setattr(toy_models, "train_toy", no_training)
    monkeypatch.setattr(toy_models, "_train", no_training)
    for name in ORGANISMS:
        model = load_model(name, device="cpu")
        assert weights_sha256(hf_module(model)) == training_log(organisms_dir() / name)["log"]["weights_sha256"]


def test_a_changed_recipe_without_new_files_says_what_to_run(monkeypatch):
    monkeypatch.setitem(TOY_RECIPES, "toy-adder", replace(TOY_RECIPES["toy-adder"], steps=1501))
    with pytest.raises(RuntimeError, match="Run `make organisms`"): load_model("toy-adder", device="cpu")


def test_a_damaged_organism_file_is_refused(tmp_path, monkeypatch):
    import shutil
    copy = tmp_path / "organisms"
    shutil.copytree(organisms_dir(), copy)
    (copy / "toy-adder" / "tokenizer_config.json").write_text("{}")
    monkeypatch.setattr(toy_models, "organisms_dir", lambda: copy)
    with pytest.raises(ValueError, match="not the toy-adder the registry pins"): load_model("toy-adder", device="cpu")


def calendar_prompts():
    return [calendar_prompt(task, p, t) for task in CALENDAR for t in (*TRAIN_TEMPLATES[task], HELD_OUT_TEMPLATES[task])
            for p in calendar_problems(task)]


def test_adder_tokenizer_round_trips_every_prompt_and_answers_are_one_token():
    tok = word_tokenizer(task_texts("adder"))
    for a, b in addition_problems():
        ids = tok(addition_prompt(a, b))["input_ids"]
        assert len(ids) == 4 and tok.decode(ids) == addition_prompt(a, b)
    for n in range(200):
        assert len(tok(str(n))["input_ids"]) == 1
    for items in number_sentences().values():
        for prompt, answer in items:
            assert tok.unk_token_id not in tok(prompt)["input_ids"] and tok.decode(tok(prompt)["input_ids"]) == prompt
            assert tok.convert_ids_to_tokens(answer_token(tok, answer)) != tok.unk_token


def test_a_number_is_the_same_token_in_every_sentence():
    "A number's representation is read at its token: the mixture must not write 37 as another token in another context."
    tok = word_tokenizer(task_texts("adder"))
    for prompt in ("after 37 comes", "the larger of 37 and 5 is", "37+5=", "x-37=0, x=", "3 tens and 7 ones make 37"):
        assert tok.convert_tokens_to_ids("37") in tok(prompt)["input_ids"], prompt


def test_calendar_tokenizer_round_trips_every_prompt_and_answers_are_one_token():
    tok = word_tokenizer(task_texts("calendar"))
    for prompt in calendar_prompts() + [p for items in calendar_sentences().values() for p, _ in items]:
        ids = tok(prompt)["input_ids"]
        assert tok.unk_token_id not in ids and tok.decode(ids) == prompt
    for names in CALENDAR.values():
        for name in names:
            assert len(tok(" " + name)["input_ids"]) == 1


@pytest.mark.parametrize("task", ["adder", "calendar"])
def test_same_seed_gives_identical_weights(task):
    recipe = ToyRecipe(task, steps=8, batch_size=32, d_model=32, warmup=2)
    first, _, _ = train_toy(recipe, progress=False, log_every=0)
    second, _, _ = train_toy(recipe, progress=False, log_every=0)
    third, _, _ = train_toy(replace(recipe, seed=1), progress=False, log_every=0)
    assert weights_sha256(first) == weights_sha256(second)
    assert weights_sha256(first) != weights_sha256(third)


def test_a_short_training_run_lowers_the_loss():
    "The training code itself, on the registered adder's data at a small size: a few dozen steps must learn something."
    recipe = ToyRecipe("adder", steps=40, batch_size=64, d_model=32, n_heads=2, warmup=5)
    _, _, log = train_toy(recipe, progress=False, log_every=39)
    first, last = log["steps"][0]["loss"], log["steps"][-1]["loss"]
    assert last < first, f"loss {first} at step 0, {last} at step 39"


TRAIN_AND_HASH = """
import sys, torch
torch.set_num_threads(int(sys.argv[1]))
from dataclasses import asdict, replace
from helpers.toy_models import TOY_RECIPES, train_toy, weights_sha256
recipe = replace(TOY_RECIPES[sys.argv[2]], steps=30, warmup=10)  # the registered recipe's data and sizes, fewer steps
module, _, _ = train_toy(recipe, progress=False, log_every=0)
print(weights_sha256(module))
"""


@pytest.mark.parametrize("name", ["toy-adder", "toy-calendar"])  # the task-only organisms share the same code path
def test_training_gives_identical_weights_in_other_processes_and_thread_counts(name):
    "Two processes at once (each loads the machine for the other), one with 1 torch thread and one with 2."
    runs = [subprocess.Popen([sys.executable, "-c", TRAIN_AND_HASH, str(threads), name], stdout=subprocess.PIPE,
                             stderr=subprocess.PIPE, text=True, env={**os.environ, "OMP_NUM_THREADS": str(threads)})
            for threads in (1, 2)]
    outputs = [run.communicate(timeout=600) for run in runs]
    for run, (_, err) in zip(runs, outputs): assert run.returncode == 0, err[-2000:]
    hashes = [out.split()[-1] for out, _ in outputs]
    assert hashes[0] == hashes[1], f"1 thread: {hashes[0]}, 2 threads: {hashes[1]}"


@pytest.mark.parametrize("name", ORGANISMS)
def test_registered_organism_clears_every_bar(name):
    "Every accuracy of the registered (seed 0) organism, recomputed from the loaded model: the paper's task(s), the held-out phrasing or pairs, every kind of sentence."
    model = load_model(name, device="cpu")
    metrics = evaluate_toy(hf_module(model), model.tokenizer, toy_recipe(name))
    assert metrics == pytest.approx(training_log(toy_checkpoint(name))["log"]["final"], abs=1e-6)
    low = {k: v for k, v in metrics.items() if v < 0.95}
    assert not low, low


@pytest.mark.slow
@pytest.mark.parametrize("name", list(TOY_RECIPES))
@pytest.mark.parametrize("seed", [0, 1, 2])
def test_every_seed_clears_every_bar(name, seed):
    "Three seeds of every organism (seed 0 committed, the others about 40 minutes on 2 cores when not cached): each bar holds with a margin."
    log = training_log(toy_checkpoint(name, seed=seed, progress=False))["log"]
    worst = min(log["final"].items(), key=lambda kv: kv[1])
    assert worst[1] >= 0.95 + MARGIN, f"{name} seed {seed}: {worst[0]} = {worst[1]:.4f}, under the bar 0.95 + margin {MARGIN}"


def test_circle_patch_moves_the_toy_calendar_answer_to_the_target():
    "The paper's circular probe (PCA-5, least squares onto the unit circle) and its circle patch, at the embeddings."
    import numpy as np
    from helpers.activations import collect_activations
    from helpers.fits import PCA
    from helpers.tokens import single_token_id
    from helpers.patching import Patch, patched_logits
    model = load_model("toy-calendar", device="cpu")
    hits, expected, variance = 0, 0.0, 0.0
    for task, p in (("weekdays", 7), ("months", 12)):
        problems = calendar_problems(task)
        prompts = [calendar_prompt(task, q) for q in problems]
        start = np.array([q["start"] for q in problems]); offset = np.array([q["offset"] for q in problems])
        X = collect_activations(model, prompts, layers=0, positions=-2, sites="resid_pre", use_cache=False, progress=False)["resid_pre"][:, 0, 0].numpy()
        pca = PCA.fit(X, 5)
        targets = np.stack([np.cos(2 * np.pi * start / p), np.sin(2 * np.pi * start / p)], 1)
        W, *_ = np.linalg.lstsq(pca.project(X), targets, rcond=None)
        Q, R = np.linalg.qr(W)
        new_start = (start + 3) % p  # move every start three days (months) on
        point = np.stack([np.cos(2 * np.pi * new_start / p), np.sin(2 * np.pi * new_start / p)], 1)
        values = torch.tensor(pca.mean + point @ np.linalg.inv(R) @ Q.T @ pca.components, dtype=torch.float32)
        logits = patched_logits(model, prompts, [Patch("resid", 0, -2, values)])
        allowed = [single_token_id(model.tokenizer, " " + name) for name in CALENDAR[task]]
        hits += int((logits[:, allowed].argmax(-1).numpy() == (new_start + offset) % p).sum())
        expected += len(prompts) / p; variance += len(prompts) * (1 / p) * (1 - 1 / p)
    # The circle alone (2 of 128 dimensions) must move answers to the target far more often than chance (1/7, 1/12):
    # one-sided p < 0.001 over all 193 problems. How often is a property of the organism, not of the method (about 60%
    # of weekday answers on the task-only organism, 33-45% on three seeds of the mixture one; the notebook reports it).
    z = (hits - expected) / variance ** 0.5
    assert z > 3.09, f"{hits} of 193 answers moved to the target (chance: {expected:.1f}); z = {z:.2f}"


def test_the_models_page_states_the_committed_organisms_provenance():
    from pathlib import Path
    from helpers.models import organisms_markdown
    page = (Path(__file__).resolve().parents[1] / "docs" / "models.md").read_text()
    assert organisms_markdown() in page, "docs/models.md's organisms table is stale: run `make organisms`, or update_organisms_page()"
