"""Tests for the SFT/DPO data builders, LoRA training with checkpoint lineage, and checkpoint scoring."""

from __future__ import annotations

import json
import warnings

import pandas as pd
import pytest
import torch
from transformers import TrainerCallback

from vatnb import training
from vatnb.checkpoint_eval import (
    apply_rating_rule,
    checkpoint_metrics,
    evaluate_checkpoints,
    select_test_items,
)
from vatnb.dataset import builtin_offline_set
from vatnb.training import (
    MANIFEST_FILE,
    checkpoint_schedule,
    list_checkpoints,
    loss_history,
    model_load_kwargs,
    planned_steps,
    profile_config,
    read_manifest,
    train,
    train_dpo,
    train_sft,
    trainer_settings,
)
from vatnb.training_data import dpo_pairs, examples_checksum, sft_examples

# ---------------------------------------------------------------------------
# Fixtures: a small offline table, split by hand
# ---------------------------------------------------------------------------


def _fixture_records() -> pd.DataFrame:
    records = builtin_offline_set(countries=["Germany"], topics=["Work", "Health"], scenes_per_pair=2)
    scenes = sorted(records["scene_id"].unique())
    test_scenes = {scenes[1], scenes[3]}
    records["split"] = ["test" if scene in test_scenes else "train" for scene in records["scene_id"]]
    return records


@pytest.fixture(scope="module")
def records():
    return _fixture_records()


def _quick_config(method: str, output_dir, **overrides):
    settings = {"max_steps": 6, "batch_size": 2, "checkpoint_steps": (2, 4, 6), "max_length": 256}
    settings.update(overrides)
    return profile_config("tiny", method, output_dir, **settings)


# ---------------------------------------------------------------------------
# Training data
# ---------------------------------------------------------------------------


def test_sft_examples_intended_polarity(records):
    examples = sft_examples(records, "Power", "suppress")
    train_power = records[(records["split"] == "train") & (records["value"] == "Power")]
    expected = train_power[train_power["polarity"] == "suppress"]
    assert len(examples) == len(expected) == 2 * 5  # 2 training scenes x 5 Power micro-values
    assert list(examples["completion"].str[0].str["content"]) == list(expected["action"])
    assert all("set aside" in text for text in examples["completion"].str[0].str["content"])
    assert examples["prompt"].iloc[0][0]["role"] == "user"
    assert set(examples["scene_id"]) <= set(train_power["scene_id"])


def test_sft_examples_reinforce_uses_express(records):
    examples = sft_examples(records, "Security", "reinforce")
    assert all("act on" in text for text in examples["completion"].str[0].str["content"])


def test_dpo_pairs_same_scene_and_micro_value(records):
    pairs = dpo_pairs(records, "Power", "suppress")
    assert len(pairs) == 10
    indexed = records.set_index(["scene_id", "micro_value", "polarity"])["action"]
    for row in pairs.itertuples():
        assert row.chosen[0]["content"] == indexed[(row.scene_id, row.micro_value, "suppress")]
        assert row.rejected[0]["content"] == indexed[(row.scene_id, row.micro_value, "express")]


def test_dpo_pairs_warn_on_unpaired(records):
    first = records[(records["split"] == "train") & (records["value"] == "Power")].index[0]
    broken = records.drop(index=first)
    with pytest.warns(UserWarning, match="1 \\(scene, micro-value\\) groups lack one polarity"):
        pairs = dpo_pairs(broken, "Power", "suppress")
    assert len(pairs) == 9


def test_builders_reject_bad_input(records):
    with pytest.raises(ValueError, match="direction"):
        sft_examples(records, "Power", "sideways")
    with pytest.raises(ValueError, match="lack the columns"):
        sft_examples(records.drop(columns=["scene"]), "Power", "suppress")
    with pytest.raises(ValueError, match="no usable"):
        sft_examples(records, "Power", "suppress", split="validation")


def test_checksum_tracks_content(records):
    examples = sft_examples(records, "Power", "suppress")
    assert examples_checksum(examples) == examples_checksum(examples.copy())
    changed = examples.copy()
    changed.at[0, "completion"] = [{"role": "assistant", "content": "Something else."}]
    assert examples_checksum(changed) != examples_checksum(examples)
    assert examples_checksum(examples.iloc[::-1]) != examples_checksum(examples)


# ---------------------------------------------------------------------------
# Configs and schedules (no model loaded)
# ---------------------------------------------------------------------------


def test_paper_profile_code_path(monkeypatch):
    monkeypatch.delenv("WORLD_SIZE", raising=False)
    config = profile_config("paper", "dpo", "runs/power-dpo")
    assert config.base_model == "Qwen/Qwen3-4B-Instruct-2507"
    kwargs = model_load_kwargs(config)
    assert kwargs["dtype"] is torch.bfloat16
    assert kwargs["device_map"] == "auto"
    settings = trainer_settings(config, total_steps=348)
    assert settings["bf16"] is True
    assert settings["learning_rate"] == 1e-4
    assert settings["per_device_train_batch_size"] == 8
    assert settings["num_train_epochs"] == 6.0
    assert settings["max_length"] == 2048
    assert settings["beta"] == 0.1
    assert settings["activation_checkpointing"] is True
    lora = config.lora.peft_config()
    assert lora.r == 32
    assert lora.task_type == "CAUSAL_LM"


def test_paper_profile_under_accelerate(monkeypatch):
    monkeypatch.setenv("WORLD_SIZE", "4")
    monkeypatch.setenv("LOCAL_RANK", "2")
    kwargs = model_load_kwargs(profile_config("paper", "sft", "runs/x"))
    assert kwargs["device_map"] == {"": 2}


def test_small_profile_and_revision():
    config = profile_config("small", "sft", "runs/x", base_revision="abc123")
    assert config.base_model == "Qwen/Qwen3-0.6B"
    kwargs = model_load_kwargs(config)
    assert kwargs["dtype"] is torch.float32
    assert kwargs["revision"] == "abc123"
    assert "device_map" not in kwargs


def test_config_rejects_bad_values():
    with pytest.raises(ValueError, match="method"):
        profile_config("tiny", "ppo", "runs/x")
    with pytest.raises(ValueError, match="profile"):
        profile_config("huge", "sft", "runs/x")
    with pytest.raises(ValueError, match="beta"):
        profile_config("tiny", "dpo", "runs/x", beta=0.0)
    with pytest.raises(ValueError, match="checkpoint_steps"):
        profile_config("tiny", "dpo", "runs/x", checkpoint_steps=(0, 4))


def test_planned_steps_counts_epochs():
    config = profile_config("paper", "sft", "runs/x")
    # 937 examples, batch 8: ceil(937 / 8) = 118 steps per epoch, 6 epochs.
    assert planned_steps(config, 937) == 708
    assert planned_steps(config, 937, world_size=2) == 59 * 6
    assert planned_steps(profile_config("tiny", "sft", "runs/x"), 937) == 24


def test_checkpoint_schedule():
    evenly = profile_config("paper", "sft", "runs/x")
    assert checkpoint_schedule(evenly, 348) == (58, 116, 174, 232, 290, 348)
    explicit = profile_config("paper", "sft", "runs/x", checkpoint_steps=(40, 120, 500))
    assert checkpoint_schedule(explicit, 348) == (40, 120, 348)


# ---------------------------------------------------------------------------
# Real training on the tiny model
# ---------------------------------------------------------------------------


@pytest.fixture(scope="module")
def sft_run(records, tmp_path_factory):
    config = _quick_config("sft", tmp_path_factory.mktemp("sft"), learning_rate=3e-3)
    examples = sft_examples(records, "Power", "suppress")
    return config, examples, train_sft(config, examples)


@pytest.fixture(scope="module")
def dpo_run(records, tmp_path_factory):
    config = _quick_config("dpo", tmp_path_factory.mktemp("dpo"), learning_rate=3e-3)
    examples = dpo_pairs(records, "Power", "suppress")
    return config, examples, train_dpo(config, examples)


@pytest.mark.parametrize("run_name", ["sft_run", "dpo_run"])
def test_training_saves_scheduled_checkpoints(run_name, request):
    config, examples, checkpoints = request.getfixturevalue(run_name)
    assert [path.name for path in checkpoints] == ["checkpoint-2", "checkpoint-4", "checkpoint-6"]
    for path in checkpoints:
        assert (path / "adapter_model.safetensors").is_file()
        assert (path / MANIFEST_FILE).is_file()


@pytest.mark.parametrize("run_name", ["sft_run", "dpo_run"])
def test_training_loss_decreases(run_name, request):
    config, _, _ = request.getfixturevalue(run_name)
    history = loss_history(config.output_dir)
    assert list(history["step"]) == [1, 2, 3, 4, 5, 6]
    first, last = history["loss"].iloc[:2].mean(), history["loss"].iloc[-2:].mean()
    assert last < first, history


def test_dpo_loss_starts_at_log_two(dpo_run):
    config, _, _ = dpo_run
    history = loss_history(config.output_dir)
    # The adapter starts as the identity (LoRA B = 0), so policy = reference and the loss is ln 2.
    assert history["loss"].iloc[0] == pytest.approx(0.6931, abs=1e-3)


def test_manifest_lineage(sft_run):
    config, examples, checkpoints = sft_run
    manifest = read_manifest(checkpoints[1])
    assert manifest["method"] == "sft"
    assert manifest["step"] == 4
    assert manifest["last_step"] == 6
    assert manifest["base_model"] == "tiny"
    assert manifest["base_revision"].startswith("build-")
    assert manifest["lora"]["r"] == 8
    assert manifest["trainer"]["learning_rate"] == 3e-3
    assert manifest["data_checksum"] == examples_checksum(examples)
    assert manifest["seed"] == 0
    assert manifest["target_value"] == "Power"
    adapter = json.loads((checkpoints[1] / "adapter_config.json").read_text())
    assert adapter["base_model_name_or_path"] == manifest["base_model_path"]


def test_complete_run_is_not_retrained(sft_run, monkeypatch):
    config, examples, checkpoints = sft_run

    def fail(*args, **kwargs):
        raise AssertionError("a complete run must not build a trainer")

    monkeypatch.setattr(training, "_build_trainer", fail)
    assert train(config, examples) == checkpoints


def test_other_data_in_same_folder_rejected(sft_run, records):
    config, _, _ = sft_run
    other = sft_examples(records, "Security", "suppress")
    with pytest.raises(ValueError, match="another run"):
        train(config, other)


def test_other_settings_in_same_folder_rejected(sft_run):
    config, examples, _ = sft_run
    changed = profile_config("tiny", "sft", config.output_dir, **{
        **{key: getattr(config, key) for key in ("max_steps", "batch_size", "checkpoint_steps", "max_length")},
        "learning_rate": 1e-2,
    })
    with pytest.raises(ValueError, match="settings learning_rate"):
        train(changed, examples)
    assert training.config_fingerprint(changed) != training.config_fingerprint(config)


class _Interrupt(RuntimeError):
    pass


class _InterruptAfterSave(TrainerCallback):
    def __init__(self, step):
        self.step = step

    def on_save(self, args, state, control, **kwargs):
        if state.global_step == self.step:
            raise _Interrupt(f"interrupted after the checkpoint of step {self.step}")
        return control


def test_interrupted_run_resumes(records, tmp_path, sft_run):
    _, examples, full_checkpoints = sft_run
    config = _quick_config("sft", tmp_path / "run", learning_rate=3e-3)
    with pytest.raises(_Interrupt):
        train(config, examples, callbacks=[_InterruptAfterSave(4)])
    assert [path.name for path in list_checkpoints(config.output_dir)] == ["checkpoint-2", "checkpoint-4"]

    resumed = train(config, examples)
    assert [path.name for path in resumed] == ["checkpoint-2", "checkpoint-4", "checkpoint-6"]
    state = json.loads((resumed[-1] / "trainer_state.json").read_text())
    logged = [entry["step"] for entry in state["log_history"] if "loss" in entry]
    assert logged == [1, 2, 3, 4, 5, 6]

    from safetensors.torch import load_file

    resumed_weights = load_file(resumed[-1] / "adapter_model.safetensors")
    full_weights = load_file(full_checkpoints[-1] / "adapter_model.safetensors")
    assert resumed_weights.keys() == full_weights.keys()
    for name, tensor in full_weights.items():
        torch.testing.assert_close(resumed_weights[name], tensor, rtol=1e-4, atol=1e-6)


# ---------------------------------------------------------------------------
# Checkpoint scoring
# ---------------------------------------------------------------------------


def test_select_test_items(records):
    items = select_test_items(records, n_scenes=1, micro_values_per_value=1, seed=3)
    assert items["scene_id"].nunique() == 1
    assert set(items["split"]) == {"test"}
    assert items.groupby("value")["micro_value"].nunique().eq(1).all()
    assert items.groupby("value").size().eq(2).all()  # both polarities
    assert items["value"].nunique() == 10
    again = select_test_items(records, n_scenes=1, micro_values_per_value=1, seed=3)
    pd.testing.assert_frame_equal(items, again)


@pytest.mark.filterwarnings("ignore::vatnb.metrics.UndefinedMetricWarning")
@pytest.mark.filterwarnings("ignore:invalid value encountered in sqrt:RuntimeWarning")
def test_evaluate_checkpoints_and_metrics(records, sft_run, dpo_run, tmp_path):
    items = select_test_items(records, micro_values_per_value=1, seed=0)
    checkpoints = sft_run[2] + dpo_run[2]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", FutureWarning)
        judged = evaluate_checkpoints(checkpoints, items, cache_path=tmp_path / "cache.sqlite", progress=False)
    conditions = list(pd.unique(judged["condition"]))
    assert conditions == ["base", "sft-step2", "sft-step4", "sft-step6", "dpo-step2", "dpo-step4", "dpo-step6"]
    assert judged.groupby("condition").size().eq(len(items)).all()
    assert judged["valid_mass"].between(0, 1).all()
    # The adapters change the model: some expected rating moves between base and the last SFT checkpoint.
    base = judged[judged["condition"] == "base"]["expected_rating"].to_numpy()
    last = judged[judged["condition"] == "sft-step6"]["expected_rating"].to_numpy()
    assert abs(base - last).max() > 1e-4

    again = evaluate_checkpoints(checkpoints, items, cache_path=tmp_path / "cache.sqlite", progress=False)
    assert again["rating"].equals(judged["rating"])

    rounded = apply_rating_rule(judged, "stochastic-rounding", seed=0)
    assert rounded["rating"].isin([1, 2, 3, 4, 5]).all()
    assert (rounded["rating"] - rounded["expected_rating"]).abs().lt(1).all()
    table = checkpoint_metrics(rounded, "Power", "suppress")
    assert list(table["checkpoint"]) == conditions[1:]
    assert list(table["method"]) == ["SFT"] * 3 + ["DPO"] * 3
    assert list(table["step"]) == [2, 4, 6] * 2
    assert table["N"].eq(2).all()


def test_stochastic_rounding_shares_draws():
    # Two conditions with the same expected ratings must get the same integer ratings.
    frame = pd.DataFrame(
        {
            "condition": ["a"] * 4 + ["b"] * 4,
            "sample_id": ["s1", "s1", "s2", "s2"] * 2,
            "micro_value": ["Wealth", "Authority"] * 4,
            "sign": [1, -1, 1, -1] * 2,
            "rating": [3.0] * 8,
            "expected_rating": [2.5, 3.2, 4.9, 1.1] * 2,
            "scale_points": 5,
        }
    )
    rounded = apply_rating_rule(frame, "stochastic-rounding", seed=1)
    first, second = rounded["rating"].iloc[:4].to_numpy(), rounded["rating"].iloc[4:].to_numpy()
    assert (first == second).all()
    assert set(first[:1]) <= {2.0, 3.0}
    assert rounded["argmax_rating"].eq(3.0).all()
    with pytest.raises(ValueError, match="rule"):
        apply_rating_rule(frame, "mean")


def test_command_line_trains_tiny_run(tmp_path, capsys):
    status = training.main(
        ["--method", "sft", "--output-dir", str(tmp_path / "cli"), "--max-steps", "2", "--checkpoint-steps", "1,2"]
    )
    assert status == 0
    # The trainer prints its own summary to stdout too; the folders are the lines naming the run.
    lines = capsys.readouterr().out.splitlines()
    folders = [line for line in lines if line.startswith(str(tmp_path / "cli"))]
    assert [line.rsplit("/", 1)[-1] for line in folders] == ["checkpoint-1", "checkpoint-2"]
    assert read_manifest(tmp_path / "cli" / "checkpoint-2")["target_value"] == "Power"


def _damaged_copy(checkpoint, tmp_path):
    import shutil

    copy = tmp_path / checkpoint.parent.name / checkpoint.name
    shutil.copytree(checkpoint, copy)
    return copy


def test_damaged_manifest_names_checkpoint(sft_run, tmp_path):
    copy = _damaged_copy(sft_run[2][-1], tmp_path)
    (copy / MANIFEST_FILE).write_text("")
    with pytest.raises(training.CheckpointError, match="is not valid JSON") as caught:
        read_manifest(copy)
    assert str(copy) in str(caught.value)
    (copy / MANIFEST_FILE).write_text(json.dumps({"method": "sft"}))
    with pytest.raises(training.CheckpointError, match="lacks step, base_model_path"):
        read_manifest(copy)


def test_truncated_adapter_names_checkpoint(records, sft_run, tmp_path):
    copy = _damaged_copy(sft_run[2][-1], tmp_path)
    weights = copy / "adapter_model.safetensors"
    weights.write_bytes(weights.read_bytes()[:100])
    items = select_test_items(records, n_scenes=1, micro_values_per_value=1, seed=0)
    with pytest.raises(training.CheckpointError, match="adapter weights could not be loaded") as caught:
        evaluate_checkpoints([copy], items, progress=False)
    assert str(copy) in str(caught.value)
