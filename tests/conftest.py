"""Shared fixtures: tiny randomly initialised checkpoints of every architecture the papers use, and of layouts that no
table of the project names (Phi-3 with its fused gate and up projection, Qwen3, GPT-Neo, Falcon), saved like hub models."""
import helpers  # noqa: F401  (first: it sets the OpenMP wait policy and BLAS threads before torch loads)
from helpers.core import cache_dir
import pytest
import torch
from tokenizers import Tokenizer, models, pre_tokenizers
from transformers import (AutoModelForCausalLM, FalconConfig, Gemma2Config, GPT2Config, GPTJConfig, GPTNeoConfig, GPTNeoXConfig,
                          LlamaConfig, MistralConfig, Phi3Config, PreTrainedTokenizerFast, Qwen3Config)

WORDS = "<pad> <unk> <bos> the cat sat on a mat Monday Tuesday two days from is".split()

# Two layers is enough to tell layers apart; widths are tiny so a forward pass takes milliseconds.
TINY_CONFIGS = {
    "gpt2": lambda v: GPT2Config(n_layer=3, n_embd=32, n_head=4, n_positions=64, vocab_size=v),
    "gptj": lambda v: GPTJConfig(n_layer=3, n_embd=32, n_head=4, rotary_dim=4, n_positions=64, vocab_size=v),
    "gpt_neox": lambda v: GPTNeoXConfig(num_hidden_layers=3, hidden_size=32, num_attention_heads=4, intermediate_size=64, vocab_size=v),
    "llama": lambda v: LlamaConfig(num_hidden_layers=3, hidden_size=32, num_attention_heads=4, num_key_value_heads=2, intermediate_size=64, vocab_size=v),
    "mistral": lambda v: MistralConfig(num_hidden_layers=3, hidden_size=32, num_attention_heads=4, num_key_value_heads=2, intermediate_size=64, vocab_size=v),
    "gemma2": lambda v: Gemma2Config(num_hidden_layers=3, hidden_size=32, num_attention_heads=4, num_key_value_heads=2, head_dim=8, intermediate_size=64, vocab_size=v),
    "phi3": lambda v: Phi3Config(num_hidden_layers=3, hidden_size=32, num_attention_heads=4, num_key_value_heads=2, intermediate_size=64, vocab_size=v,
                                 pad_token_id=0, bos_token_id=2, eos_token_id=2),
    "qwen3": lambda v: Qwen3Config(num_hidden_layers=3, hidden_size=32, num_attention_heads=4, num_key_value_heads=2, head_dim=8, intermediate_size=64, vocab_size=v),
    "gpt_neo": lambda v: GPTNeoConfig(num_layers=3, hidden_size=32, num_heads=4, attention_types=[[["global", "local"], 1], [["global"], 1]],
                                      window_size=8, max_position_embeddings=64, vocab_size=v),
    "falcon": lambda v: FalconConfig(num_hidden_layers=3, hidden_size=32, num_attention_heads=4, vocab_size=v),
}


def word_tokenizer() -> PreTrainedTokenizerFast:
    vocab = {w: i for i, w in enumerate(WORDS)}
    backend = Tokenizer(models.WordLevel(vocab, unk_token="<unk>"))
    backend.pre_tokenizer = pre_tokenizers.WhitespaceSplit()
    return PreTrainedTokenizerFast(tokenizer_object=backend, pad_token="<pad>", unk_token="<unk>", bos_token="<bos>")


def save_tiny(arch: str, folder) -> str:
    torch.manual_seed(0)
    config = TINY_CONFIGS[arch](len(WORDS))
    config.pad_token_id, config.bos_token_id, config.eos_token_id = 0, 2, 2
    AutoModelForCausalLM.from_config(config).save_pretrained(folder)
    word_tokenizer().save_pretrained(folder)
    return str(folder)


@pytest.fixture(scope="session", params=list(TINY_CONFIGS))
def tiny_checkpoint(request, tmp_path_factory):
    "A folder holding a tiny random model of one architecture and its tokenizer, written with save_pretrained."
    return request.param, save_tiny(request.param, tmp_path_factory.mktemp(request.param))


@pytest.fixture(autouse=True)
def isolated_cache(tmp_path, monkeypatch):
    """Each test gets its own cache, so tests never see each other's activations or SAEs. Its `models` folder is the
    project's: trained toy models and converted embedded models are keyed by their recipe or file hash and written
    atomically, so sharing them changes no result, and each is built once (here, then reused by `make smoke`)."""
    cache = tmp_path / "cache"
    cache.mkdir()
    (cache / "models").symlink_to(cache_dir("models"), target_is_directory=True)
    monkeypatch.setenv("INTERP_CACHE_DIR", str(cache))


def pytest_addoption(parser):
    parser.addoption("--slow", action="store_true", help="also run tests marked slow (minutes to an hour on 2 cores)")


def pytest_configure(config):
    config.addinivalue_line("markers", "slow: takes minutes or more; skipped unless pytest is given --slow")


def pytest_collection_modifyitems(config, items):
    if config.getoption("--slow"): return
    skip = pytest.mark.skip(reason="slow: run with `pytest --slow` (or `make test-slow`)")
    for item in items:
        if "slow" in item.keywords: item.add_marker(skip)
