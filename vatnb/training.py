"""LoRA fine-tuning toward one value by SFT or DPO, with checkpoint lineage and resumption.

Chen and Shen, "Value Alignment Tax" (section 5 and appendix G.1), train
Qwen3-4B-Instruct with LoRA rank 32, maximum sequence length 2048, learning
rate 1e-4, batch size 8, 6 epochs (SFT) and preference parameter beta = 0.1
(DPO), and evaluate six checkpoints per run. :class:`TrainingConfig` carries
these defaults, and :func:`profile_config` gives three sizes of the same run:

========= ================================== =========== ===============
profile   base model                          dtype       device
========= ================================== =========== ===============
``tiny``  local tiny Qwen3 (vatnb.tinymodel)  float32     CPU
``small`` ``Qwen/Qwen3-0.6B`` from the hub    float32     CPU or GPU
``paper`` ``Qwen/Qwen3-4B-Instruct-2507``     bfloat16    GPU, device_map
========= ================================== =========== ===============

Public functions
----------------
- :func:`train` (and the wrappers :func:`train_sft`, :func:`train_dpo`) train
  one run and return its checkpoint folders in step order. A rerun with the
  same config resumes from the last checkpoint or, when the run is complete,
  returns the existing checkpoints without training.
- :func:`read_manifest`, :func:`list_checkpoints`, :func:`loss_history` read a
  run back.
- :func:`evaluate_checkpoints` scores every checkpoint's adapter and the base
  model on the same test prompts and returns judgment records for
  :mod:`vatnb.metrics`; :func:`checkpoint_metrics` turns them into one row of
  Gain, nVAT and Gini per checkpoint.

The module also runs as a script, so multi-GPU training works with
``accelerate launch -m vatnb.training --profile paper --method dpo ...``
(see :func:`main`).
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import logging
import math
import os
import re
from collections.abc import Sequence
from pathlib import Path

import pandas as pd

from vatnb.training_data import (
    DIRECTIONS,
    PROMPT_TEMPLATE_VERSION,
    examples_checksum,
    intended_polarity,
)

log = logging.getLogger(__name__)

METHODS = ("sft", "dpo")
PROFILES = ("tiny", "small", "paper")
DTYPES = ("float32", "bfloat16", "float16", "auto")
MANIFEST_FILE = "vatnb_manifest.json"
TINY_BASE_MODEL = "tiny"  # placeholder id that :func:`resolve_base_model` builds locally
_CHECKPOINT_PATTERN = re.compile(r"^checkpoint-(\d+)$")


@dataclasses.dataclass(frozen=True)
class LoraSettings:
    """LoRA adapter settings (peft ``LoraConfig``).

    The paper fixes only the rank (32). The scaling ``alpha = 2 r``, the
    dropout and the choice of all linear projections as targets are this
    project's defaults, not the paper's.
    """

    r: int = 32
    alpha: int = 64
    dropout: float = 0.05
    target_modules: str | tuple[str, ...] = "all-linear"

    def __post_init__(self) -> None:
        if not isinstance(self.r, int) or self.r < 1:
            raise ValueError(f"LoraSettings.r must be a positive int, got {self.r!r}")
        if not 0.0 <= self.dropout < 1.0:
            raise ValueError(f"LoraSettings.dropout must be in [0, 1), got {self.dropout!r}")

    def peft_config(self):
        """Return the peft ``LoraConfig`` for a causal LM."""
        from peft import LoraConfig

        target = self.target_modules if isinstance(self.target_modules, str) else list(self.target_modules)
        return LoraConfig(
            r=self.r,
            lora_alpha=self.alpha,
            lora_dropout=self.dropout,
            target_modules=target,
            task_type="CAUSAL_LM",
        )


@dataclasses.dataclass(frozen=True)
class TrainingConfig:
    """One LoRA training run toward one value.

    Attributes, grouped
    -------------------
    What is trained
        ``method`` (``"sft"`` or ``"dpo"``), ``target_value`` and ``direction``
        (``"reinforce"`` or ``"suppress"``), ``base_model`` (hub id, local
        folder, or ``"tiny"`` for the local tiny Qwen3) and
        ``base_revision`` (hub revision; ``None`` is the default branch).
    Optimisation (paper defaults)
        ``learning_rate`` 1e-4, ``batch_size`` 8 (per device),
        ``gradient_accumulation_steps`` 1, ``epochs`` 6, ``max_steps``
        (``None`` trains for ``epochs``; a number caps the run, as the tiny
        profile does), ``max_length`` 2048 tokens, ``beta`` 0.1 (DPO only),
        ``lora`` (:class:`LoraSettings`, rank 32).
    Checkpoints
        ``checkpoint_steps`` (explicit optimizer steps) or, when ``None``,
        ``num_checkpoints`` (6, as in the paper) evenly spaced steps ending
        at the last step. ``output_dir`` receives ``checkpoint-<step>``
        folders, each with a ``vatnb_manifest.json``.
    Placement
        ``dtype`` (``"float32"``, ``"bfloat16"``, ``"float16"`` or
        ``"auto"``), ``device_map`` (``None`` keeps the model where
        the trainer puts it; ``"auto"`` spreads it over the visible GPUs),
        ``activation_checkpointing`` (recompute activations in the backward pass to save memory).
    Reproducibility
        ``seed`` (model initialisation of the adapter, data order, dropout),
        ``logging_steps``.
    """

    method: str
    output_dir: str
    target_value: str = "Power"
    direction: str = "suppress"
    base_model: str = TINY_BASE_MODEL
    base_revision: str | None = None
    learning_rate: float = 1e-4
    batch_size: int = 8
    gradient_accumulation_steps: int = 1
    epochs: float = 6.0
    max_steps: int | None = None
    max_length: int = 2048
    beta: float = 0.1
    lora: LoraSettings = dataclasses.field(default_factory=LoraSettings)
    checkpoint_steps: tuple[int, ...] | None = None
    num_checkpoints: int = 6
    dtype: str = "float32"
    device_map: str | None = None
    activation_checkpointing: bool = False
    seed: int = 0
    logging_steps: int = 1
    profile: str | None = None

    def __post_init__(self) -> None:
        if self.method not in METHODS:
            raise ValueError(f"method must be one of {METHODS}, got {self.method!r}")
        if self.direction not in DIRECTIONS:
            raise ValueError(f"direction must be one of {DIRECTIONS}, got {self.direction!r}")
        if self.dtype not in DTYPES:
            raise ValueError(f"dtype must be one of {DTYPES}, got {self.dtype!r}")
        for name in ("batch_size", "gradient_accumulation_steps", "max_length", "num_checkpoints", "logging_steps"):
            value = getattr(self, name)
            if not isinstance(value, int) or value < 1:
                raise ValueError(f"TrainingConfig.{name} must be a positive int, got {value!r}")
        if self.max_steps is not None and (not isinstance(self.max_steps, int) or self.max_steps < 1):
            raise ValueError(f"TrainingConfig.max_steps must be None or a positive int, got {self.max_steps!r}")
        if not self.learning_rate > 0:
            raise ValueError(f"TrainingConfig.learning_rate must be positive, got {self.learning_rate!r}")
        if not self.epochs > 0:
            raise ValueError(f"TrainingConfig.epochs must be positive, got {self.epochs!r}")
        if not self.beta > 0:
            raise ValueError(f"TrainingConfig.beta must be positive, got {self.beta!r}")
        if self.checkpoint_steps is not None:
            steps = tuple(self.checkpoint_steps)
            if not steps or any(not isinstance(step, int) or step < 1 for step in steps):
                raise ValueError(
                    f"TrainingConfig.checkpoint_steps must be positive ints, got {self.checkpoint_steps!r}"
                )
            object.__setattr__(self, "checkpoint_steps", tuple(sorted(set(steps))))
        intended_polarity(self.direction)

    def to_dict(self) -> dict:
        """Return the config as plain JSON-ready data."""
        data = dataclasses.asdict(self)
        data["lora"]["target_modules"] = (
            self.lora.target_modules
            if isinstance(self.lora.target_modules, str)
            else list(self.lora.target_modules)
        )
        if self.checkpoint_steps is not None:
            data["checkpoint_steps"] = list(self.checkpoint_steps)
        return data


def config_fingerprint(config: TrainingConfig) -> str:
    """Return a 12-character SHA-256 prefix of every setting except ``output_dir``.

    Two configs with the same fingerprint train the same run, so a folder
    named after it (see the chapter) is reused only by the same settings.
    """
    settings = {key: value for key, value in config.to_dict().items() if key != "output_dir"}
    text = json.dumps(settings, sort_keys=True, ensure_ascii=True)
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:12]


# Profile defaults. Only these fields differ between profiles; everything
# else keeps the paper's values from TrainingConfig.
_PROFILE_SETTINGS: dict[str, dict] = {
    # NOTE: the tiny profile departs from the paper (24 steps, rank 8, batch 4,
    # learning rate 1e-3) so that both methods train and are evaluated within
    # minutes on two CPU cores. It exercises every code path of the paper
    # profile, but its numbers tell nothing about Qwen.
    "tiny": {
        "base_model": TINY_BASE_MODEL,
        "dtype": "float32",
        "device_map": None,
        "max_steps": 24,
        "batch_size": 4,
        "max_length": 512,
        "learning_rate": 1e-3,
        "lora": LoraSettings(r=8, alpha=16, dropout=0.0),
        "checkpoint_steps": (6, 12, 18, 24),
    },
    "small": {
        "base_model": "Qwen/Qwen3-0.6B",
        "dtype": "float32",
        "device_map": None,
    },
    # Qwen3-4B-Instruct is the paper's model; the 2507 instruct release is the
    # hub id of that model without a thinking block.
    "paper": {
        "base_model": "Qwen/Qwen3-4B-Instruct-2507",
        "dtype": "bfloat16",
        "device_map": "auto",
        "activation_checkpointing": True,
    },
}


def profile_config(profile: str, method: str, output_dir: str | os.PathLike, **overrides) -> TrainingConfig:
    """Return the :class:`TrainingConfig` of a profile, with ``overrides`` applied last.

    Examples
    --------
    >>> config = profile_config("paper", "dpo", "runs/power-dpo")
    >>> config.base_model, config.dtype, config.beta
    ('Qwen/Qwen3-4B-Instruct-2507', 'bfloat16', 0.1)
    """
    if profile not in PROFILES:
        raise ValueError(f"profile must be one of {PROFILES}, got {profile!r}")
    settings = {**_PROFILE_SETTINGS[profile], **overrides}
    return TrainingConfig(method=method, output_dir=str(output_dir), profile=profile, **settings)


# ---------------------------------------------------------------------------
# Base model and trainer arguments
# ---------------------------------------------------------------------------


def resolve_base_model(config: TrainingConfig) -> tuple[str, str | None]:
    """Return the path or hub id to load, and the revision recorded in manifests.

    For ``"tiny"`` the local tiny Qwen3 is built (or taken from its cache) and
    its build hash is recorded as the revision.
    """
    if config.base_model == TINY_BASE_MODEL:
        from vatnb.tinymodel import read_build_info, tiny_qwen3

        path = tiny_qwen3()
        return str(path), f"build-{read_build_info(path)['hash'][:16]}"
    return config.base_model, config.base_revision


def model_load_kwargs(config: TrainingConfig) -> dict:
    """Return the keyword arguments for ``AutoModelForCausalLM.from_pretrained``.

    Under ``accelerate launch`` or ``torchrun`` with more than one process
    (``WORLD_SIZE > 1``), each process loads a whole copy of the model on its
    own GPU, so ``device_map="auto"`` becomes ``{"": LOCAL_RANK}``.

    NOTE: the ``small`` and ``paper`` profiles and the multi-process path are
    covered by tests of these settings only. They have not been trained
    here, because this project's test machines have no GPU and no hub access.
    """
    import torch

    kwargs: dict = {}
    if config.dtype == "auto":
        kwargs["dtype"] = "auto"
    else:
        kwargs["dtype"] = getattr(torch, config.dtype)
    device_map = config.device_map
    if device_map is not None and int(os.environ.get("WORLD_SIZE", "1")) > 1:
        device_map = {"": int(os.environ.get("LOCAL_RANK", "0"))}
    if device_map is not None:
        kwargs["device_map"] = device_map
    if config.base_revision is not None and config.base_model != TINY_BASE_MODEL:
        kwargs["revision"] = config.base_revision
    return kwargs


def planned_steps(config: TrainingConfig, n_examples: int, world_size: int = 1) -> int:
    """Return the number of optimizer steps the run will take.

    With ``max_steps`` set it is that number. Otherwise it is
    ``ceil(ceil(n_examples / (batch_size * world_size)) / gradient_accumulation_steps) * epochs``,
    rounded up, which is how the transformers Trainer counts epochs of a
    map-style dataset with the last partial batch kept.
    """
    if n_examples < 1:
        raise ValueError(f"n_examples must be positive, got {n_examples}")
    if config.max_steps is not None:
        return config.max_steps
    batches = math.ceil(n_examples / (config.batch_size * world_size))
    per_epoch = max(1, math.ceil(batches / config.gradient_accumulation_steps))
    return math.ceil(per_epoch * config.epochs)


def checkpoint_schedule(config: TrainingConfig, total_steps: int) -> tuple[int, ...]:
    """Return the steps at which checkpoints are saved, always ending at ``total_steps``.

    Explicit ``checkpoint_steps`` beyond ``total_steps`` are dropped with a
    warning. Otherwise ``num_checkpoints`` steps are spaced evenly:
    ``round(total_steps * i / n)`` for ``i = 1..n``.
    """
    if config.checkpoint_steps is not None:
        steps = [step for step in config.checkpoint_steps if step <= total_steps]
        if len(steps) < len(config.checkpoint_steps):
            log.warning(
                "checkpoint steps %s exceed the run's %d steps and are skipped",
                [step for step in config.checkpoint_steps if step > total_steps],
                total_steps,
            )
    else:
        n = min(config.num_checkpoints, total_steps)
        steps = [round(total_steps * index / n) for index in range(1, n + 1)]
    return tuple(sorted(set(steps) | {total_steps}))


def trainer_settings(config: TrainingConfig, total_steps: int) -> dict:
    """Return the keyword arguments of the run's trl ``SFTConfig`` or ``DPOConfig``.

    Building the config object itself checks the hardware (bf16 needs a GPU),
    so this plain dict is what tests of the GPU profiles inspect.
    """
    settings = {
        "output_dir": config.output_dir,
        "learning_rate": config.learning_rate,
        "per_device_train_batch_size": config.batch_size,
        "gradient_accumulation_steps": config.gradient_accumulation_steps,
        "num_train_epochs": config.epochs,
        "max_steps": total_steps,
        "max_length": config.max_length,
        "seed": config.seed,
        "data_seed": config.seed,
        "logging_steps": config.logging_steps,
        # Saving is driven by the checkpoint schedule (see _ScheduledSaves);
        # the interval here is only a fallback that never fires first.
        "save_strategy": "steps",
        "save_steps": total_steps + 1,
        "report_to": "none",
        "bf16": config.dtype == "bfloat16",
        "fp16": config.dtype == "float16",
        "activation_checkpointing": config.activation_checkpointing,
        # NOTE: without CUDA the trainer is pinned to the CPU, which also
        # leaves an Apple MPS device unused.
        "use_cpu": not _cuda_available(),
        "disable_tqdm": False,
    }
    if config.method == "dpo":
        settings["beta"] = config.beta
    return settings


def trainer_arguments(config: TrainingConfig, total_steps: int):
    """Return the trl ``SFTConfig`` or ``DPOConfig`` of a run (no model is loaded)."""
    from trl import DPOConfig, SFTConfig

    settings = trainer_settings(config, total_steps)
    return SFTConfig(**settings) if config.method == "sft" else DPOConfig(**settings)


def _cuda_available() -> bool:
    import torch

    return torch.cuda.is_available()


# ---------------------------------------------------------------------------
# Manifests and checkpoints
# ---------------------------------------------------------------------------


def build_manifest(
    config: TrainingConfig, step: int, last_step: int, base_path: str, base_revision: str | None,
    data_checksum: str, n_examples: int,
) -> dict:
    """Return the lineage record written into each checkpoint folder."""
    import peft
    import torch
    import transformers
    import trl

    return {
        "method": config.method,
        "step": int(step),
        "last_step": int(last_step),
        "target_value": config.target_value,
        "direction": config.direction,
        "base_model": config.base_model,
        "base_model_path": base_path,
        "base_revision": base_revision,
        "lora": config.to_dict()["lora"],
        "trainer": {
            key: value
            for key, value in config.to_dict().items()
            if key not in ("lora", "method", "target_value", "direction", "base_model", "base_revision", "output_dir")
        },
        "data_checksum": data_checksum,
        "config_fingerprint": config_fingerprint(config),
        "config": {key: value for key, value in config.to_dict().items() if key != "output_dir"},
        "n_examples": int(n_examples),
        "prompt_template": PROMPT_TEMPLATE_VERSION,
        "seed": config.seed,
        "versions": {
            "torch": torch.__version__,
            "transformers": transformers.__version__,
            "trl": trl.__version__,
            "peft": peft.__version__,
        },
    }


class CheckpointError(ValueError):
    """A damaged checkpoint folder. The message names the folder and how to recover."""

    def __init__(self, checkpoint: str | os.PathLike, problem: str):
        super().__init__(
            f"checkpoint {checkpoint} is damaged: {problem}. Delete that folder and rerun. A deleted "
            "last checkpoint is trained again from the one before it, and cached judgments are kept"
        )


def read_manifest(checkpoint: str | os.PathLike) -> dict:
    """Return the manifest of a checkpoint folder.

    Raises
    ------
    FileNotFoundError
        If the folder has no ``vatnb_manifest.json`` (it was not written by :func:`train`).
    CheckpointError
        If the manifest is not a JSON object with ``method``, ``step`` and ``base_model_path``
        (a run killed while saving, or an edited file).
    """
    path = Path(checkpoint) / MANIFEST_FILE
    if not path.is_file():
        raise FileNotFoundError(f"{path} not found; is {checkpoint} a checkpoint saved by vatnb.training.train?")
    try:
        manifest = json.loads(path.read_text(encoding="utf-8"))
    except (json.JSONDecodeError, UnicodeDecodeError) as error:
        raise CheckpointError(checkpoint, f"its manifest {path.name} is not valid JSON ({error})") from None
    missing = [key for key in ("method", "step", "base_model_path")
               if not isinstance(manifest, dict) or key not in manifest]
    if missing:
        raise CheckpointError(checkpoint, f"its manifest {path.name} lacks {', '.join(missing)}")
    return manifest


def list_checkpoints(output_dir: str | os.PathLike) -> list[Path]:
    """Return the ``checkpoint-<step>`` folders of a run that have a manifest, in step order."""
    root = Path(output_dir)
    if not root.is_dir():
        return []
    found = []
    for child in root.iterdir():
        match = _CHECKPOINT_PATTERN.match(child.name)
        if match and (child / MANIFEST_FILE).is_file():
            found.append((int(match.group(1)), child))
    return [path for _, path in sorted(found)]


def loss_history(run: str | os.PathLike) -> pd.DataFrame:
    """Return the logged training loss (columns ``step``, ``loss``) of a run or checkpoint folder.

    A run folder is read through its last checkpoint, whose ``trainer_state.json``
    contains the whole log, including the part before a resumption.
    """
    folder = Path(run)
    if not (folder / "trainer_state.json").is_file():
        checkpoints = list_checkpoints(folder)
        if not checkpoints:
            raise FileNotFoundError(f"no checkpoint with trainer_state.json in {folder}")
        folder = checkpoints[-1]
    state = json.loads((folder / "trainer_state.json").read_text())
    rows = [(entry["step"], entry["loss"]) for entry in state["log_history"] if "loss" in entry]
    return pd.DataFrame(rows, columns=["step", "loss"]).drop_duplicates("step", keep="last").reset_index(drop=True)


def _checked_resume_point(config: TrainingConfig, data_checksum: str) -> Path | None:
    """Return the last checkpoint to resume from, after checking it belongs to this run."""
    checkpoints = list_checkpoints(config.output_dir)
    if not checkpoints:
        return None
    manifest = read_manifest(checkpoints[-1])
    mismatches = []
    if manifest["data_checksum"] != data_checksum:
        mismatches.append("training data")
    if manifest.get("config_fingerprint") != config_fingerprint(config):
        current = {key: value for key, value in config.to_dict().items() if key != "output_dir"}
        saved = manifest.get("config", {})
        changed = sorted(key for key in current if saved.get(key) != current[key])
        mismatches.append(f"settings {', '.join(changed) or 'unknown'}")
    if mismatches:
        raise ValueError(
            f"Cannot resume in {config.output_dir}: its checkpoints come from another run "
            f"(different {', '.join(mismatches)}). Choose a new output_dir or delete the old checkpoints."
        )
    return checkpoints[-1]


def _scheduled_saves_callback(schedule: Sequence[int], manifest_for_step):
    """Return a TrainerCallback that saves exactly at ``schedule`` and writes a manifest into each checkpoint."""
    from transformers import TrainerCallback

    steps = frozenset(schedule)

    class _ScheduledSaves(TrainerCallback):
        def on_step_end(self, args, state, control, **kwargs):
            control.should_save = state.global_step in steps
            return control

        def on_save(self, args, state, control, **kwargs):
            if not state.is_world_process_zero:
                return control
            folder = Path(args.output_dir) / f"checkpoint-{state.global_step}"
            if folder.is_dir():
                manifest = manifest_for_step(state.global_step)
                (folder / MANIFEST_FILE).write_text(json.dumps(manifest, indent=2) + "\n")
            return control

    return _ScheduledSaves()


# ---------------------------------------------------------------------------
# Training
# ---------------------------------------------------------------------------


def train(config: TrainingConfig, examples: pd.DataFrame, callbacks: Sequence = ()) -> list[Path]:
    """Train one LoRA run and return its checkpoint folders in step order.

    Parameters
    ----------
    config
        The run; see :class:`TrainingConfig` and :func:`profile_config`.
    examples
        :func:`vatnb.training_data.sft_examples` output for SFT,
        :func:`vatnb.training_data.dpo_pairs` output for DPO.
    callbacks
        Extra transformers ``TrainerCallback`` objects (tests use one to
        interrupt a run).

    Returns
    -------
    list of pathlib.Path
        ``output_dir/checkpoint-<step>`` folders, each holding the adapter,
        the trainer state and a ``vatnb_manifest.json``.

    Notes
    -----
    A rerun with the same config and examples resumes from the last
    checkpoint (optimizer, scheduler, RNG states and data position
    restored), and returns at once when the last scheduled checkpoint exists.
    A rerun with other examples, method, seed or base model into the same
    folder raises ``ValueError``.
    """
    required = ("prompt", "completion") if config.method == "sft" else ("prompt", "chosen", "rejected")
    missing = [column for column in required if column not in examples.columns]
    if missing:
        raise ValueError(
            f"{config.method} examples lack the columns {missing}; build them with "
            f"vatnb.training_data.{'sft_examples' if config.method == 'sft' else 'dpo_pairs'}"
        )
    world_size = int(os.environ.get("WORLD_SIZE", "1"))
    total_steps = planned_steps(config, len(examples), world_size)
    schedule = checkpoint_schedule(config, total_steps)
    checksum = examples_checksum(examples)

    resume_from = _checked_resume_point(config, checksum)
    if resume_from is not None and read_manifest(resume_from)["step"] >= total_steps:
        log.info("%s is complete (step %d); nothing to train", config.output_dir, total_steps)
        return list_checkpoints(config.output_dir)

    base_path, base_revision = resolve_base_model(config)

    def manifest_for_step(step: int) -> dict:
        return build_manifest(config, step, total_steps, base_path, base_revision, checksum, len(examples))

    trainer = _build_trainer(config, examples[list(required)], base_path, total_steps)
    trainer.add_callback(_scheduled_saves_callback(schedule, manifest_for_step))
    for callback in callbacks:
        trainer.add_callback(callback)
    if resume_from is not None:
        log.info("resuming %s from %s", config.output_dir, resume_from)
    trainer.train(resume_from_checkpoint=str(resume_from) if resume_from is not None else None)
    return list_checkpoints(config.output_dir)


def _build_trainer(config: TrainingConfig, examples: pd.DataFrame, base_path: str, total_steps: int):
    import datasets
    from transformers import AutoModelForCausalLM, AutoTokenizer, set_seed
    from trl import DPOTrainer, SFTTrainer

    set_seed(config.seed)
    load_kwargs = model_load_kwargs(config)
    if config.base_model != TINY_BASE_MODEL and "revision" in load_kwargs:
        tokenizer = AutoTokenizer.from_pretrained(base_path, revision=load_kwargs["revision"])
    else:
        tokenizer = AutoTokenizer.from_pretrained(base_path)
    if tokenizer.pad_token is None:
        tokenizer.pad_token = tokenizer.eos_token
    model = AutoModelForCausalLM.from_pretrained(base_path, **load_kwargs)

    dataset = datasets.Dataset.from_pandas(examples.reset_index(drop=True), preserve_index=False)
    arguments = trainer_arguments(config, total_steps)
    trainer_class = SFTTrainer if config.method == "sft" else DPOTrainer
    # DPO with a peft_config uses the base model with the adapter switched off
    # as its reference model, so no second copy of the model is loaded.
    return trainer_class(
        model=model,
        args=arguments,
        train_dataset=dataset,
        processing_class=tokenizer,
        peft_config=config.lora.peft_config(),
    )


def train_sft(config: TrainingConfig, examples: pd.DataFrame, callbacks: Sequence = ()) -> list[Path]:
    """Train an SFT run (see :func:`train`); ``config.method`` must be ``"sft"``."""
    if config.method != "sft":
        raise ValueError(f"train_sft needs config.method == 'sft', got {config.method!r}")
    return train(config, examples, callbacks)


def train_dpo(config: TrainingConfig, examples: pd.DataFrame, callbacks: Sequence = ()) -> list[Path]:
    """Train a DPO run (see :func:`train`) and return its checkpoint folders in step order.

    For a beta sweep, give each beta its own ``output_dir``, for example
    ``profile_config("tiny", "dpo", f"runs/dpo-beta-{beta}", beta=beta)``.
    """
    if config.method != "dpo":
        raise ValueError(f"train_dpo needs config.method == 'dpo', got {config.method!r}")
    return train(config, examples, callbacks)


# ---------------------------------------------------------------------------
# Command line (works under ``accelerate launch -m vatnb.training``)
# ---------------------------------------------------------------------------


def _parse_arguments(argv: Sequence[str] | None):
    import argparse

    parser = argparse.ArgumentParser(
        prog="python -m vatnb.training",
        description="Train one LoRA run (SFT or DPO) toward one value and save scheduled checkpoints.",
    )
    parser.add_argument("--profile", choices=PROFILES, default="tiny", help="size of the run (default: tiny)")
    parser.add_argument("--method", choices=METHODS, required=True, help="training method")
    parser.add_argument("--output-dir", required=True, help="folder for checkpoint-<step> folders")
    parser.add_argument("--target-value", default="Power", help="Schwartz value to steer (default: Power)")
    parser.add_argument("--direction", choices=DIRECTIONS, default="suppress", help="steering direction")
    parser.add_argument("--data", default=None,
                        help="CSV or Parquet table in the vatnb.dataset schema; default: the built-in templated set")
    parser.add_argument("--scenes-per-pair", type=int, default=1,
                        help="built-in set only: templated scenes per (country, topic) (default: 1)")
    parser.add_argument("--max-steps", type=int, default=None, help="cap on optimizer steps (default: the profile's)")
    parser.add_argument("--checkpoint-steps", default=None, help="comma-separated steps to save (default: the profile's)")
    parser.add_argument("--beta", type=float, default=0.1, help="DPO preference parameter (default: 0.1)")
    parser.add_argument("--seed", type=int, default=0, help="seed of the split, LoRA initialisation and data order")
    parser.add_argument("--base-revision", default=None, help="hub revision of the base model (small and paper profiles)")
    return parser.parse_args(argv)


def main(argv: Sequence[str] | None = None) -> int:
    """Train one run from the command line and print its checkpoint folders.

    Examples
    --------
    ``accelerate launch -m vatnb.training --profile paper --method dpo --output-dir runs/power-dpo``
    """
    from vatnb.dataset import builtin_offline_set, load_table
    from vatnb.splits import split_scenes
    from vatnb.training_data import training_examples

    arguments = _parse_arguments(argv)
    logging.basicConfig(level=logging.INFO)
    if arguments.data:
        records = load_table(arguments.data)
    else:
        records = builtin_offline_set(scenes_per_pair=arguments.scenes_per_pair)
    if records["split"].isna().all():
        records = split_scenes(records, seed=arguments.seed)
    overrides: dict = {
        "target_value": arguments.target_value,
        "direction": arguments.direction,
        "beta": arguments.beta,
        "seed": arguments.seed,
    }
    if arguments.max_steps is not None:
        overrides["max_steps"] = arguments.max_steps
    if arguments.checkpoint_steps:
        overrides["checkpoint_steps"] = tuple(int(step) for step in arguments.checkpoint_steps.split(","))
    if arguments.base_revision:
        overrides["base_revision"] = arguments.base_revision
    config = profile_config(arguments.profile, arguments.method, arguments.output_dir, **overrides)
    examples = training_examples(records, config.method, config.target_value, config.direction)
    for checkpoint in train(config, examples):
        print(checkpoint)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
