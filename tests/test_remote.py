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
