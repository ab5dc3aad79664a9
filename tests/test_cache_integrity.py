"""Cache entries: a truncated or altered file is detected by its checksum and recomputed; two processes writing the
same entry at once leave one valid file."""
import multiprocessing
import warnings

import pytest
import torch

from conftest import save_tiny
from helpers.activations import cache_path, collect_activations, load_cached, save_cached
from helpers.models import load_model

PROMPTS = ["the cat sat on a mat", "Monday two days from is", "the mat"]


@pytest.fixture(scope="module")
def tiny(tmp_path_factory):
    return load_model(save_tiny("llama", tmp_path_factory.mktemp("tiny")), device="cpu")


def collect(model):
    return collect_activations(model, PROMPTS, layers=[0, 2], positions=-1, progress=False)["resid_post"]


def only_entry(cache):
    entries = list((cache / "activations").glob("*.safetensors"))
    assert len(entries) == 1
    return entries[0]


def recollect_with_warning(model):
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        again = collect(model)
    assert any("corrupt" in str(w.message) for w in caught), "the damaged entry was read without a warning"
    return again


@pytest.mark.parametrize("damage", ["truncate", "flip a byte of tensor data"])
def test_damaged_entry_is_detected_and_recomputed(tiny, tmp_path, damage):
    first = collect(tiny)
    entry = only_entry(tmp_path / "cache")
    data = bytearray(entry.read_bytes())
    if damage == "truncate": data = data[: len(data) // 2]
    else: data[-5] ^= 0xFF  # inside the last tensor: the file still parses, only the checksum can tell
    entry.write_bytes(bytes(data))
    assert torch.equal(recollect_with_warning(tiny), first)
    assert load_cached(entry, _key_of(entry)) is not None  # rewritten whole


def _key_of(entry):
    import json
    from safetensors import safe_open
    with safe_open(str(entry), framework="pt") as f: return json.loads(f.metadata()["key"])


def _writer(path, key, value, rounds):
    for _ in range(rounds): save_cached(path, key, {"x": torch.full((256, 64), float(value))})


def test_two_processes_writing_one_entry_leave_one_valid_file(tmp_path):
    key = {"test": "concurrent writers"}
    path = cache_path(key)
    context = multiprocessing.get_context("spawn")
    writers = [context.Process(target=_writer, args=(path, key, value, 40)) for value in (1, 2)]
    for w in writers: w.start()
    for w in writers: w.join(timeout=120)
    assert all(w.exitcode == 0 for w in writers)
    loaded = load_cached(path, key)
    assert loaded is not None and loaded["x"].unique().numel() == 1 and loaded["x"][0, 0].item() in (1.0, 2.0)
    assert [p.name for p in path.parent.iterdir()] == [path.name]  # no temporary file left behind
