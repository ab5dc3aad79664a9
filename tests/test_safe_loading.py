"""Safe loading: nothing a user can be handed is unpickled, remote code stays off unless asked for, and the loaders
refuse a pickle where they expect safetensors or npz."""
import ast
import inspect
import pickle
from pathlib import Path

import numpy as np
import pytest

import helpers
from helpers.models import load_model

PACKAGE = Path(helpers.__file__).parent
UNSAFE_CALLS = {"pickle.load", "pickle.loads", "torch.load", "joblib.load", "dill.load", "cloudpickle.load"}


def calls(tree):
    for node in ast.walk(tree):
        if isinstance(node, ast.Call): yield node, ast.unparse(node.func)


@pytest.mark.parametrize("module", sorted(p.name for p in PACKAGE.glob("*.py")))
def test_no_unpickling_in_the_package(module):
    tree = ast.parse((PACKAGE / module).read_text())
    for node, name in calls(tree):
        assert name not in UNSAFE_CALLS, f"{module}:{node.lineno} calls {name}"
        if name in ("np.load", "numpy.load"):
            flags = {k.arg: ast.unparse(k.value) for k in node.keywords}
            assert flags.get("allow_pickle") == "False", f"{module}:{node.lineno}: np.load without allow_pickle=False"
        for k in node.keywords:  # remote code only through a parameter that defaults to off, never a literal True
            assert not (k.arg == "trust_remote_code" and ast.unparse(k.value) == "True"), f"{module}:{node.lineno}"


def test_remote_code_is_off_by_default():
    assert inspect.signature(load_model).parameters["trust_remote_code"].default is False


def test_gemma_scope_loader_refuses_a_pickled_npz(tmp_path):
    from helpers.sae import load_gemma_scope
    folder = tmp_path / "sae"
    folder.mkdir()
    weights = {"W_enc": np.zeros((4, 8), dtype=object), "W_dec": np.zeros((8, 4)), "b_enc": np.zeros(8),
               "b_dec": np.zeros(4), "threshold": np.zeros(8)}
    np.savez(folder / "params.npz", **weights)  # the object array is stored as a pickle
    with pytest.raises(ValueError, match="pickle"):
        load_gemma_scope(folder)


def test_sae_folder_with_a_pickle_instead_of_safetensors_is_refused_unread(tmp_path, monkeypatch):
    from helpers.sae import load_sae
    folder = tmp_path / "sae"
    folder.mkdir()
    (folder / "sae_weights.safetensors").write_bytes(pickle.dumps({"W_enc": [1.0]}))
    (folder / "cfg.json").write_text('{"architecture": "topk", "d_in": 1, "d_sae": 1, "activation_fn_kwargs": {"k": 1}}')
    def refuse(*args, **kwargs): raise AssertionError("a pickle was unpickled")
    monkeypatch.setattr(pickle, "load", refuse)
    monkeypatch.setattr(pickle, "loads", refuse)
    with pytest.raises(Exception) as caught:
        load_sae(folder)
    assert not isinstance(caught.value, AssertionError)
