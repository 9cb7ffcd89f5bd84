"""Tests for the tiny offline Qwen3 model and tokenizer."""

from __future__ import annotations

import json

import pytest
import torch
from transformers import AutoModelForCausalLM, AutoTokenizer

from vatnb import tinymodel
from vatnb.tinymodel import BUILD_INFO_FILE, TinyQwen3Spec, read_build_info, tiny_qwen3


@pytest.fixture(scope="module")
def tiny_path(tmp_path_factory):
    return tiny_qwen3(tmp_path_factory.mktemp("tiny") / "model")


def test_loads_with_auto_classes(tiny_path):
    model = AutoModelForCausalLM.from_pretrained(tiny_path)
    tokenizer = AutoTokenizer.from_pretrained(tiny_path)
    assert model.config.model_type == "qwen3"
    assert model.config.vocab_size >= len(tokenizer)
    parameters = sum(p.numel() for p in model.parameters())
    assert 500_000 < parameters < 10_000_000


def test_digits_are_single_tokens(tiny_path):
    tokenizer = AutoTokenizer.from_pretrained(tiny_path)
    for digit in "12345":
        ids = tokenizer.encode(digit, add_special_tokens=False)
        assert len(ids) == 1, (digit, ids)
        assert tokenizer.decode(ids) == digit
    # A digit after a space is still its own token, as in Qwen's tokenizer.
    tokens = tokenizer.tokenize("Answer: 4")
    assert tokens[-1] == "4"


def test_special_tokens_and_chat_template(tiny_path):
    tokenizer = AutoTokenizer.from_pretrained(tiny_path)
    assert tokenizer.eos_token == "<|im_end|>"
    assert tokenizer.pad_token == "<|endoftext|>"
    assert tokenizer.pad_token_id != tokenizer.eos_token_id
    text = tokenizer.apply_chat_template(
        [{"role": "user", "content": "Rate Power from 1 to 5."}],
        add_generation_prompt=True,
        tokenize=False,
    )
    assert text == "<|im_start|>user\nRate Power from 1 to 5.<|im_end|>\n<|im_start|>assistant\n"
    assert tokenizer.convert_ids_to_tokens(tokenizer.encode(text))[0] == "<|im_start|>"


def test_round_trip_text(tiny_path):
    tokenizer = AutoTokenizer.from_pretrained(tiny_path)
    text = "Zebra qualms, 907 Benevolence & Self-Direction!"
    assert tokenizer.decode(tokenizer.encode(text, add_special_tokens=False)) == text


def test_forward_gives_next_token_logits(tiny_path):
    model = AutoModelForCausalLM.from_pretrained(tiny_path)
    tokenizer = AutoTokenizer.from_pretrained(tiny_path)
    batch = tokenizer(["Your answer:", "Scale 1 to 5, answer:"], return_tensors="pt", padding=True)
    with torch.no_grad():
        logits = model(**batch).logits
    assert logits.shape[:2] == batch["input_ids"].shape
    assert logits.shape[2] == model.config.vocab_size
    assert torch.isfinite(logits).all()


def test_same_seed_same_weights(tmp_path):
    first = AutoModelForCausalLM.from_pretrained(tiny_qwen3(tmp_path / "a", seed=3))
    second = AutoModelForCausalLM.from_pretrained(tiny_qwen3(tmp_path / "b", seed=3))
    other = AutoModelForCausalLM.from_pretrained(tiny_qwen3(tmp_path / "c", seed=4))
    weight = "model.layers.0.self_attn.q_proj.weight"
    state_first, state_second = first.state_dict(), second.state_dict()
    assert torch.equal(state_first[weight], state_second[weight])
    assert not torch.equal(state_first[weight], other.state_dict()[weight])


def test_cache_reuses_build(tmp_path, monkeypatch):
    monkeypatch.setenv("VATNB_CACHE_DIR", str(tmp_path))
    first = tiny_qwen3()
    assert first.parent == tmp_path / "tiny-models"
    marker = first / "config.json"
    mtime = marker.stat().st_mtime_ns

    def fail_build(spec):
        raise AssertionError("the cached build should have been reused")

    monkeypatch.setattr(tinymodel, "build_tiny_tokenizer", fail_build)
    second = tiny_qwen3()
    assert second == first
    assert marker.stat().st_mtime_ns == mtime
    info = read_build_info(first)
    assert info["spec"]["seed"] == 0
    assert len(info["hash"]) == 64


def test_cache_key_changes_with_spec(tmp_path, monkeypatch):
    monkeypatch.setenv("VATNB_CACHE_DIR", str(tmp_path))
    assert tiny_qwen3(seed=0) != tiny_qwen3(seed=1)


def test_rejects_foreign_folder(tmp_path):
    (tmp_path / "notes.txt").write_text("unrelated")
    with pytest.raises(FileExistsError, match="not empty"):
        tiny_qwen3(tmp_path)


def test_rejects_stale_build_record(tmp_path):
    folder = tiny_qwen3(tmp_path / "model")
    info = json.loads((folder / BUILD_INFO_FILE).read_text())
    info["hash"] = "0" * 64
    (folder / BUILD_INFO_FILE).write_text(json.dumps(info))
    with pytest.raises(FileExistsError):
        tiny_qwen3(folder)


@pytest.mark.parametrize(
    "field, value",
    [("vocab_size", 100), ("num_key_value_heads", 3), ("hidden_size", -1)],
)
def test_spec_rejects_bad_values(field, value):
    with pytest.raises(ValueError, match=field):
        TinyQwen3Spec(**{field: value})
