"""nnsight's remote path, simulated on this machine (`load_model(..., remote="local")`): every trace is serialised as
for NDIF, deserialised with the project's modules hidden, and run here. The helpers must give what a local run gives."""
from unittest.mock import patch

import pytest
import torch
from nnsight.intervention.backends.local import LocalSimulationBackend

from helpers.activations import collect_activations, residual_points
from helpers.models import is_remote, load_model, teacher_forced
from helpers.patching import Patch, patched_logits

PROMPTS = [f"{a}+{b}=" for a in (3, 14, 27, 40, 58, 71) for b in (5, 22, 36)]


@pytest.fixture(scope="module")
def models():
    return load_model("toy-adder", device="cpu"), load_model("toy-adder", device="cpu", remote="local")


@pytest.fixture
def simulated():
    "The traces that took the simulated remote path."
    calls, run = [], LocalSimulationBackend.__call__
    with patch.object(LocalSimulationBackend, "__call__", lambda self, tracer: calls.append(1) or run(self, tracer)):
        yield calls


def test_a_simulated_remote_run_gives_the_local_activations(models, simulated):
    local, far = models
    assert (is_remote(local), is_remote(far)) == (False, True)
    kwargs = dict(layers=[0, 1], positions=[0, -1], sites=["resid_post", "attn_out", "mlp_out"], use_cache=False, progress=False)
    mine, theirs = collect_activations(local, PROMPTS, **kwargs), collect_activations(far, PROMPTS, **kwargs)
    assert simulated, "no trace took the remote path"
    for site in mine: torch.testing.assert_close(theirs[site], mine[site], rtol=1e-5, atol=1e-6)
    # residual sites alone: hooks on the module locally, a trace remotely
    torch.testing.assert_close(residual_points(far, PROMPTS, use_cache=False, progress=False),
                               residual_points(local, PROMPTS, use_cache=False, progress=False), rtol=1e-5, atol=1e-6)


def test_a_simulated_remote_run_gives_the_local_patches_and_accuracy(models, simulated):
    local, far = models
    values = residual_points(local, PROMPTS[::-1], use_cache=False, progress=False)[:, 1, 0]  # another prompt's state
    patches = [Patch("resid", 1, -1, values)]
    torch.testing.assert_close(patched_logits(far, PROMPTS, patches), patched_logits(local, PROMPTS, patches), rtol=1e-5, atol=1e-5)
    answers = [str(sum(map(int, p[:-1].split("+")))) for p in PROMPTS]
    assert (teacher_forced(far, PROMPTS, answers) == teacher_forced(local, PROMPTS, answers)).all()
    assert len(simulated) >= 2


def test_a_remote_models_cache_key_names_it_by_id_commit_and_dtype_not_by_its_weights(models):
    from helpers.activations import cache_key, model_identity
    local, far = models
    assert set(model_identity(far)) == {"repo_id", "commit", "dtype", "runs_on"}
    assert model_identity(far) == {"repo_id": "toy-adder", "commit": far.commit, "dtype": "torch.float32", "runs_on": "local"}
    assert "weights" in model_identity(local) and cache_key(far, [[1, 2]], [0], [-1], ["resid_post"]) != cache_key(
        local, [[1, 2]], [0], [-1], ["resid_post"])
    assert load_model("toy-adder", device="cpu", remote="local").commit == far.commit  # the same files, the same name


def test_the_write_rows_through_an_identity_batch_are_the_weights_rows(models):
    from helpers.activations import write_rows
    local, far = models
    for part, units in (("neurons", {0: [0, 5, 9], 1: [3]}), ("heads", {1: [0, 1, 2, 3]})):
        near, traced = write_rows(local, units, part), write_rows(far, units, part, use_cache=False)
        for layer in units: torch.testing.assert_close(traced[layer], near[layer], rtol=1e-5, atol=1e-6)


PLANTED = "ndif-planted-key-0123456789"


def _deployment(repo_id, state="RUNNING"):
    return {"repo_id": repo_id, "revision": "main", "application_state": state, "deployment_level": "HOT"}


@pytest.fixture
def ndif_reachable(monkeypatch):
    "A key, a hub that answers with a canonical id and a commit, and an NDIF status to set."
    from types import SimpleNamespace

    import huggingface_hub
    from nnsight import CONFIG
    import helpers.models as models_module
    monkeypatch.setattr(CONFIG.API, "APIKEY", PLANTED)
    monkeypatch.setattr(models_module, "_hub_reachable", lambda timeout=3.0: True)
    monkeypatch.setattr(models_module, "check_hub_access", lambda repo_id, revision=None: False)  # the hub's config.json
    monkeypatch.delenv("HF_HUB_OFFLINE", raising=False)
    monkeypatch.setattr(huggingface_hub.HfApi, "model_info",
                        lambda self, repo_id, revision=None: SimpleNamespace(id=f"org/{repo_id.split('/')[-1]}", sha="c" * 40))
    status = {"deployments": {}}
    monkeypatch.setattr("nnsight.ndif.status", lambda raw=False: status)
    return status


def test_check_ndif_says_what_is_wrong_before_anything_is_built(ndif_reachable):
    from helpers.models import NdifUnavailableError, check_ndif
    with pytest.raises(NdifUnavailableError, match="cannot be reached from here") as unreachable:
        check_ndif("gpt2")
    ndif_reachable["deployments"] = {"a": _deployment("org/gpt2", "DEPLOYING"), "b": _deployment("org/other")}
    with pytest.raises(NdifUnavailableError, match="org/gpt2 .revision main. is not running on NDIF now. Running now: org/other") as absent:
        check_ndif("gpt2")
    ndif_reachable["deployments"]["a"] = _deployment("org/gpt2")
    assert check_ndif("gpt2") == ("org/gpt2", "c" * 40)
    assert not any(PLANTED in str(e.value) for e in (unreachable, absent))


def test_a_model_for_ndif_is_built_on_the_meta_device_from_its_hub_id(ndif_reachable, tmp_path, monkeypatch):
    "The hub id is read from a hub cache made here from the organism's files; NDIF's answers are the fixture's."
    import shutil

    import helpers.models as models_module
    from helpers.activations import model_identity
    from helpers.layouts import hf_module, model_device, model_dtype
    from helpers.toy_models import toy_checkpoint
    snapshot = tmp_path / "models--org--tiny-adder" / "snapshots" / ("c" * 40)
    shutil.copytree(toy_checkpoint("toy-adder"), snapshot)
    (tmp_path / "models--org--tiny-adder" / "refs").mkdir()
    (tmp_path / "models--org--tiny-adder" / "refs" / "main").write_text("c" * 40)
    monkeypatch.setenv("HF_HUB_CACHE", str(tmp_path))
    monkeypatch.setattr("huggingface_hub.constants.HF_HUB_CACHE", str(tmp_path))
    monkeypatch.setattr("huggingface_hub.constants.HF_HUB_OFFLINE", True)  # the cache only: no hub is reachable from the tests
    monkeypatch.setattr(models_module, "traced_dtype", lambda model: torch.bfloat16)  # the service's answer
    ndif_reachable["deployments"] = {"a": _deployment("org/tiny-adder")}
    model = load_model("org/tiny-adder", remote=True)
    assert {p.device.type for p in hf_module(model).parameters()} == {"meta"}  # no weights read here
    assert (model_device(model).type, model_dtype(model), model.checkpoint) == ("cpu", torch.bfloat16, "org/tiny-adder")
    assert model_identity(model) == {"repo_id": "org/tiny-adder", "commit": "c" * 40, "dtype": "torch.bfloat16", "runs_on": "ndif"}
    with pytest.raises(ValueError, match="not a local folder"):
        load_model(str(snapshot), remote=True)


def test_the_neuron_attribution_gradients_travel_the_remote_path(models, simulated):
    import pandas as pd

    from helpers.helix import neuron_attribution
    from helpers.tokens import single_token_id
    local, far = models
    pairs = pd.DataFrame({"prompt": ["3+5=", "14+22=", "27+36="], "prompt_cf": ["4+5=", "15+22=", "28+36="]})
    pairs["answer_id_cf"] = [single_token_id(local.tokenizer, str(a)) for a in (9, 37, 64)]
    torch.testing.assert_close(neuron_attribution(far, pairs), neuron_attribution(local, pairs), rtol=1e-5, atol=1e-7)
    assert simulated


def test_the_simulation_refuses_a_call_of_the_module_outside_a_trace(models):
    "On NDIF the weights are not here: a helper that calls the module directly must fail in the simulation too."
    from helpers.layouts import hf_module
    local, far = models
    ids = far.tokenizer(["3+5="], return_tensors="pt")
    hf_module(local)(**ids)  # locally, allowed
    with pytest.raises(RuntimeError, match="called its module outside a trace"):
        hf_module(far)(**ids)
