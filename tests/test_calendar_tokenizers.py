"""The circles paper's Table 1 on models whose tokenizers are of either family, built here: byte-level BPE (GPT-2, Llama-3:
a space is "Ġ") and SentencePiece-style (Mistral, Llama-2, Gemma: "▁" starts a word and is prepended to the text). The
answer tokens are the ones each tokenizer writes after the prompt; Mistral's month prompts carry the authors' prefix."""
import pytest
import torch
from tokenizers import Tokenizer, decoders, models, normalizers, pre_tokenizers
from transformers import AutoModelForCausalLM, LlamaConfig, MistralConfig, PreTrainedTokenizerFast

from helpers.circles import MISTRAL_UNPREFIXED, allowed_accuracy, allowed_tokens, calendar_frame
from helpers.models import load_model
from helpers.tasks import CALENDAR


def calendar_words() -> list[str]:
    prompts = [p for task in CALENDAR for p in calendar_frame(task).prompt]
    return sorted({w for p in prompts for w in p.split()} | {w for names in CALENDAR.values() for w in names} | {"."})


def tokenizer(family: str) -> PreTrainedTokenizerFast:
    words = calendar_words()
    if family == "byte-level":
        vocab = ["<unk>", "<bos>", *words, *("Ġ" + w for w in words)]
        backend = Tokenizer(models.WordLevel({w: i for i, w in enumerate(vocab)}, unk_token="<unk>"))
        backend.pre_tokenizer, backend.decoder = pre_tokenizers.ByteLevel(add_prefix_space=False), decoders.ByteLevel()
    else:
        vocab = ["<unk>", "<bos>", "▁", *("▁" + w for w in words)]
        backend = Tokenizer(models.WordLevel({w: i for i, w in enumerate(vocab)}, unk_token="<unk>"))
        backend.normalizer = normalizers.Sequence([normalizers.Prepend("▁"), normalizers.Replace(" ", "▁")])
        backend.pre_tokenizer, backend.decoder = pre_tokenizers.Split("▁", behavior="merged_with_next"), decoders.Metaspace()
    return PreTrainedTokenizerFast(tokenizer_object=backend, unk_token="<unk>", bos_token="<bos>", pad_token="<unk>")


@pytest.fixture(scope="module", params=[("byte-level", "llama"), ("sentencepiece", "mistral")], ids=lambda p: p[0])
def calendar_model(request, tmp_path_factory):
    family, arch = request.param
    tok = tokenizer(family)
    config_class = LlamaConfig if arch == "llama" else MistralConfig
    config = config_class(num_hidden_layers=2, hidden_size=32, num_attention_heads=4, num_key_value_heads=2, intermediate_size=64,
                          vocab_size=len(tok), pad_token_id=0, bos_token_id=1, eos_token_id=1)
    torch.manual_seed(0)
    folder = tmp_path_factory.mktemp(family)
    AutoModelForCausalLM.from_config(config).save_pretrained(folder)
    tok.save_pretrained(folder)
    return family, load_model(str(folder), device="cpu")


def test_answer_tokens_are_the_words_the_tokenizer_writes_after_the_prompt(calendar_model):
    family, model = calendar_model
    start = "Ġ" if family == "byte-level" else "▁"
    for task, names in CALENDAR.items():
        tokens = model.tokenizer.convert_ids_to_tokens(allowed_tokens(model, task).tolist())
        assert tokens == [start + name for name in names], (family, task, tokens)
        assert 0 <= allowed_accuracy(model, task) <= len(calendar_frame(task))  # Table 1 runs end to end


def test_mistral_month_prompts_carry_the_authors_prefix(calendar_model):
    family, model = calendar_model
    frame = calendar_frame("months", model)
    prefixed = frame.prompt.str.startswith(". ")
    if family == "sentencepiece":  # the Mistral model
        assert (prefixed == ~frame.duration.isin(MISTRAL_UNPREFIXED)).all()
    else:
        assert not prefixed.any()
    assert not calendar_frame("weekdays", model).prompt.str.startswith(". ").any()
