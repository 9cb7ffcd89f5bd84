"""Score every training checkpoint on the same test prompts and compute Gain, nVAT and Gini per checkpoint.

The base model (condition ``"base"``) and each checkpoint's LoRA adapter
rate the same action-endorsement prompts of :mod:`vatnb.steering` (no
steering prefix). The ratings are read from next-token probabilities by the
``hf`` backend of :mod:`vatnb.elicit`, so the records feed
:mod:`vatnb.metrics` unchanged: each checkpoint is compared with the base
model as a paired pre/post shift per test scene.
"""

from __future__ import annotations

import hashlib
import logging
import os
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import pandas as pd

from vatnb import metrics

log = logging.getLogger(__name__)

BASE_CONDITION = "base"


def select_test_items(
    records: pd.DataFrame,
    n_scenes: int | None = None,
    micro_values_per_value: int | None = None,
    seed: int | np.random.Generator = 0,
) -> pd.DataFrame:
    """Return the test actions that every checkpoint is scored on.

    Parameters
    ----------
    records
        Table in the :mod:`vatnb.dataset` schema with the ``split`` column set.
    n_scenes
        Number of test scenes drawn without replacement (``None``: all).
    micro_values_per_value
        Micro-values kept per Schwartz value and scene, drawn per scene
        (``None``: all). Both polarities of a kept micro-value stay, so every
        value keeps expressing and suppressing actions in every scene.
    seed
        Integer seed or ``numpy.random.Generator`` for both draws.

    Raises
    ------
    ValueError
        If no row has ``split == "test"`` or a count is below 1.
    """
    for name, count in (("n_scenes", n_scenes), ("micro_values_per_value", micro_values_per_value)):
        if count is not None and count < 1:
            raise ValueError(f"{name} must be None or at least 1, got {count!r}")
    rng = np.random.default_rng(seed)
    test = records[(records["split"] == "test") & records["scene"].notna() & records["action"].notna()]
    if test.empty:
        raise ValueError("records have no usable rows with split == 'test'; call vatnb.splits.split_scenes first")
    scenes = np.array(sorted(test["scene_id"].astype(str).unique()))
    if n_scenes is not None and n_scenes < len(scenes):
        scenes = np.sort(rng.choice(scenes, size=n_scenes, replace=False))
    test = test[test["scene_id"].astype(str).isin(set(scenes))]
    if micro_values_per_value is not None:
        kept = []
        for (_, _), group in test.groupby(["scene_id", "value"], sort=True):
            names = np.array(sorted(group["micro_value"].unique()))
            if len(names) > micro_values_per_value:
                names = rng.choice(names, size=micro_values_per_value, replace=False)
            kept.append(group[group["micro_value"].isin(set(names))])
        test = pd.concat(kept)
    return test.sort_values(["scene_id", "value", "micro_value", "polarity"]).reset_index(drop=True)


def checkpoint_label(checkpoint: str | os.PathLike) -> str:
    """Return ``<method>-step<step>`` from a checkpoint's manifest, the name its table rows carry."""
    from vatnb.training import read_manifest

    manifest = read_manifest(checkpoint)
    return f"{manifest['method']}-step{manifest['step']}"


def _adapter_fingerprint(checkpoint: Path) -> str:
    """Return a SHA-256 prefix of the adapter weights, so cached judgments never outlive a retrained adapter."""
    digest = hashlib.sha256()
    for name in ("adapter_model.safetensors", "adapter_model.bin"):
        path = checkpoint / name
        if path.is_file():
            digest.update(path.read_bytes())
    return digest.hexdigest()[:16]


def evaluate_checkpoints(
    checkpoints: Sequence[str | os.PathLike],
    items: pd.DataFrame,
    base_model: str | None = None,
    cache_path: str | os.PathLike | None = None,
    batch_size: int = 16,
    load_kwargs: dict | None = None,
    progress: bool = True,
) -> pd.DataFrame:
    """Score the base model and every checkpoint's adapter on the same test items.

    Parameters
    ----------
    checkpoints
        Checkpoint folders written by :func:`vatnb.training.train`; all must
        share one base model.
    items
        Test actions, for example from :func:`select_test_items`.
    base_model
        Path or hub id of the base model; default the manifest's
        ``base_model_path``.
    cache_path
        SQLite judgment cache (:class:`vatnb.elicit.JudgmentCache`); a rerun
        scores only what is missing. ``None`` keeps nothing.
    batch_size
        Prompts per forward pass.
    load_kwargs
        Extra ``from_pretrained`` arguments (``dtype``, ``device_map``); see
        :func:`vatnb.training.model_load_kwargs`.

    Returns
    -------
    DataFrame
        Judgment records (the columns of :data:`vatnb.metrics.RECORD_COLUMNS`
        plus ``expected_rating``, ``valid_mass``, ``status``) with
        ``condition`` = ``"base"`` or the checkpoint label, and a
        ``checkpoint`` column with the folder (empty for the base model).
    """
    from peft import PeftModel
    from transformers import AutoModelForCausalLM, AutoTokenizer

    from vatnb.elicit import HFBackend, JudgmentCache, elicit
    from vatnb.steering import evaluation_items
    from safetensors import SafetensorError

    from vatnb.training import CheckpointError, read_manifest

    folders = [Path(checkpoint) for checkpoint in checkpoints]
    if not folders:
        raise ValueError("checkpoints is empty; train a run first")
    manifests = [read_manifest(folder) for folder in folders]
    base_paths = {manifest["base_model_path"] for manifest in manifests}
    if base_model is None:
        if len(base_paths) != 1:
            raise ValueError(f"checkpoints come from different base models {sorted(base_paths)}; evaluate them separately")
        base_model = base_paths.pop()
    labels = [checkpoint_label(folder) for folder in folders]
    if len(set(labels)) != len(labels):
        raise ValueError(f"checkpoint labels repeat ({labels}); evaluate one run per method at a time")

    tokenizer = AutoTokenizer.from_pretrained(base_model)
    model = AutoModelForCausalLM.from_pretrained(base_model, **(load_kwargs or {}))
    cache = JudgmentCache(cache_path) if cache_path is not None else None

    frames = []
    backend = HFBackend(f"{base_model}", batch_size=batch_size, model=model, tokenizer=tokenizer)
    frames.append(_judged(elicit(evaluation_items(items, BASE_CONDITION), backend, cache, progress), ""))

    peft_model = None
    for folder, label in zip(folders, labels):
        try:
            if peft_model is None:
                peft_model = PeftModel.from_pretrained(model, str(folder), adapter_name=label)
            else:
                peft_model.load_adapter(str(folder), adapter_name=label)
        except (OSError, ValueError, SafetensorError) as error:
            raise CheckpointError(folder, f"its adapter weights could not be loaded "
                                          f"({type(error).__name__}: {error})") from None
        peft_model.set_adapter(label)
        backend = HFBackend(
            f"{base_model}+{label}@{_adapter_fingerprint(folder)}",
            batch_size=batch_size,
            model=peft_model,
            tokenizer=tokenizer,
        )
        log.info("scoring %s (%s)", label, folder)
        frames.append(_judged(elicit(evaluation_items(items, label), backend, cache, progress), str(folder)))
    return pd.concat(frames, ignore_index=True)


def _judged(frame: pd.DataFrame, checkpoint: str) -> pd.DataFrame:
    return frame.assign(checkpoint=checkpoint)


RATING_RULES = ("argmax", "stochastic-rounding")


def apply_rating_rule(records: pd.DataFrame, rule: str = "argmax", seed: int = 0) -> pd.DataFrame:
    """Return the records with ``rating`` set by ``rule``; the engine's argmax stays in ``argmax_rating``.

    ``"argmax"`` keeps the most probable option, as :mod:`vatnb.elicit` reads
    it. ``"stochastic-rounding"`` rounds the expected rating E to
    ``floor(E) + 1`` with probability ``E - floor(E)`` and to ``floor(E)``
    otherwise, so the integer rating is unbiased for E. One uniform draw per
    test item (scene, micro-value, sign) is shared by all conditions, so a
    checkpoint's rating moves only when its expected rating crosses that
    item's threshold. The second rule suits models whose argmax hardly
    varies, such as the untrained tiny model, whose option probabilities are
    near uniform.
    """
    if rule not in RATING_RULES:
        raise ValueError(f"rule must be one of {RATING_RULES}, got {rule!r}")
    result = records.copy()
    result["argmax_rating"] = result["rating"]
    if rule == "argmax":
        return result
    identity = result["sample_id"].astype(str) + "|" + result["micro_value"].astype(str) + "|" + result["sign"].astype(str)
    items = np.array(sorted(identity.unique()))
    uniforms = pd.Series(np.random.default_rng(seed).random(len(items)), index=items)
    expected = result["expected_rating"].to_numpy(float)
    floor = np.floor(expected)
    rounded = floor + (uniforms.loc[identity].to_numpy() < expected - floor)
    result["rating"] = np.where(np.isnan(expected), np.nan, np.clip(rounded, 1, result["scale_points"]))
    return result


def checkpoint_metrics(
    records: pd.DataFrame,
    target_value: str,
    direction: str,
    manifests: dict[str, dict] | None = None,
    pre: str = BASE_CONDITION,
) -> pd.DataFrame:
    """Return one row per checkpoint: Gain, nVAT, Gini and the pure-noise nVAT floor against the base model.

    Gain is in the intended direction (positive = the target moved as
    intended, also for suppression). nVAT uses Spearman coupling over the
    test scenes (diagonal excluded, see :mod:`vatnb.metrics`).

    Parameters
    ----------
    records
        Output of :func:`evaluate_checkpoints` (or any records with the
        ``pre`` condition and one condition per checkpoint).
    manifests
        ``{condition: manifest}`` to fill the ``method`` and ``step``
        columns; without it they are parsed from ``<method>-step<step>`` labels.

    Returns
    -------
    DataFrame
        Columns ``checkpoint`` (label), ``method``, ``step``, ``Gain``,
        ``nVAT``, ``Gini``, ``N`` (paired scenes), ``null floor``,
        ``valid mass`` (mean probability on the options), in checkpoint order.
    """
    scores = metrics.value_scores(records)
    conditions = [c for c in pd.unique(records["condition"]) if c != pre]
    if not conditions:
        raise ValueError(f"records hold no condition other than {pre!r}")
    rows = []
    for condition in conditions:
        shifts = metrics.paired_shifts(scores, pre, condition)
        summary = metrics.vat_summary(shifts)
        method, step = _method_and_step(condition, (manifests or {}).get(condition))
        subset = records[records["condition"] == condition]
        rows.append(
            {
                "checkpoint": condition,
                "method": method,
                "step": step,
                "Gain": metrics.gain(shifts, target_value, direction),
                "nVAT": summary.nvat,
                "Gini": summary.gini,
                "N": summary.n_samples,
                "null floor": summary.null_floor,
                "valid mass": float(subset["valid_mass"].mean()) if "valid_mass" in subset else np.nan,
            }
        )
    return pd.DataFrame(rows)


def _method_and_step(condition: str, manifest: dict | None) -> tuple[str, int]:
    if manifest is not None:
        return manifest["method"].upper(), int(manifest["step"])
    method, _, step = condition.rpartition("-step")
    if not method or not step.isdigit():
        raise ValueError(f"condition {condition!r} is not a '<method>-step<step>' label; pass manifests")
    return method.upper(), int(step)
