"""Benchmark cases: each fast path beside the obvious alternative, on the same inputs.

Every case is a :class:`Case` with two callables that compute the same result,
``fast`` (the vatnb kernel) and ``baseline`` (the straightforward route), and
the bar the ratio baseline / fast must clear. ``report.py`` times both in one
process and writes the table; ``test_benchmarks.py`` runs them under
pytest-benchmark.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

import numpy as np
import pandas as pd

from vatnb import metrics
from vatnb.fastcorr import kendall_tau_b_matrix
from vatnb.resampling import draw_weights, resample_nvat, scene_draws

SAMPLES = 9_002  # rows of the coupling input, one sample per scene, as at full scale
DRAWS = 200  # resampling draws per coupling
BASELINE_DRAWS = 3  # the per-draw baseline is timed on this many draws and scaled


@dataclass
class Case:
    """One fast path and its alternative; ``baseline_scale`` multiplies the baseline time."""

    name: str
    fast: Callable[[], object]
    baseline: Callable[[], object]
    bar: float
    note: str
    baseline_scale: float = 1.0
    repeats: int | None = None  # timings per side when the case needs more than --repeats


def likert_shifts(samples: int, columns: int, seed: int = 0) -> pd.DataFrame:
    """Shifts shaped like real ones: post minus pre of 5-point ratings, coupled, heavily tied."""
    rng = np.random.default_rng(seed)
    common = rng.normal(size=(samples, 1))
    before = rng.integers(1, 6, size=(samples, columns))
    moved = np.round(0.8 * common + rng.normal(size=(samples, columns)))
    after = np.clip(before + moved, 1, 5)
    return pd.DataFrame((after - before) / 2.0, columns=[f"v{j}" for j in range(columns)])


def kendall_case(columns: int = 56, bar: float = 10.0) -> Case:
    data = likert_shifts(SAMPLES, columns)
    return Case(
        name=f"Kendall tau-b matrix, {columns} x {SAMPLES}",
        fast=lambda: kendall_tau_b_matrix(data),
        baseline=lambda: data.corr(method="kendall"),
        bar=bar,
        note="baseline: pandas DataFrame.corr(method='kendall')",
        repeats=3,
    )


def resampling_case(columns: int, method: str, draws: int = DRAWS) -> Case:
    data = likert_shifts(SAMPLES, columns, seed=columns)
    scenes = np.arange(SAMPLES)

    def per_draw_loop():
        labels, drawn = scene_draws(scenes, BASELINE_DRAWS, seed=1)
        weights = draw_weights(scenes, drawn, labels.size)
        return [metrics.nvat(data[row > 0].corr(method=method)) for row in weights]

    return Case(
        name=f"{draws} scene draws, {method}, {columns}D",
        fast=lambda: resample_nvat(data, scenes, n_draws=draws, method=method, seed=1),
        baseline=per_draw_loop,
        bar=1.0,
        note=f"baseline: a loop of pandas coupling per draw, timed on {BASELINE_DRAWS} draws "
        f"and scaled to {draws}",
        baseline_scale=draws / BASELINE_DRAWS,
    )


def steering_prompts(prompts: int, k: int = 4, seed: int = 0) -> list[str]:
    """Action-endorsement prompts after one k-example steering prefix, as the steering chapter builds them.

    k = 0 gives the same questions without a prefix.

    Scenes and actions come from the built-in templated dataset, so the
    prompts have the length of real steering prompts (about 620 tokens with
    the tiny tokenizer for k = 4) and share their few-shot prefix.
    """
    from vatnb import dataset, steering

    items = dataset.builtin_offline_set(countries=dataset.COUNTRIES[:2], topics=dataset.TOPICS[:3],
                                        scenes_per_pair=2)
    items = items.assign(split="train")
    prefix = ""
    if k > 0:
        examples = steering.select_examples(items, "Benevolence", k, seed=seed)
        prefix = steering.steering_prefix("Benevolence", "reinforce", examples)
    rows = items.sample(prompts, random_state=seed)
    return [steering.action_prompt(scene, action, prefix) for scene, action in zip(rows.scene, rows.action)]


def scoring_cases(prompts: int = 96, batch_size: int = 32, device: str = "cpu") -> list[Case]:
    """Batched log-prob Likert scoring against one prompt at a time, on the tiny Qwen3.

    The first case carries the 5x bar: the same scorer with batches of
    ``batch_size`` and with ``batch_size=1``, both reusing the shared steering
    prefix, so that the ratio measures batching alone. The second shows what
    reusing the prefix saves, both sides batched. The third compares the
    scorer as shipped with the loop a user would write without it: one prompt
    at a time, each run in full. ``device`` is where the model runs ("cpu" or
    "cuda").
    """
    from transformers import AutoModelForCausalLM, AutoTokenizer

    from vatnb.elicit.hf import likert_probabilities
    from vatnb.tinymodel import tiny_qwen3

    folder = tiny_qwen3()
    tokenizer = AutoTokenizer.from_pretrained(folder)
    model = AutoModelForCausalLM.from_pretrained(folder).to(device)
    model.eval()
    device_label = "" if device == "cpu" else f" on {device}"
    texts = steering_prompts(prompts)

    def score(batch, reuse=True):
        return lambda: likert_probabilities(model, tokenizer, texts, batch_size=batch,
                                            reuse_shared_prefix=reuse)

    batched = Case(
        name=f"Likert log-prob scoring, {prompts} steering prompts, tiny Qwen3{device_label}",
        fast=score(batch_size),
        baseline=score(1),
        # NOTE: on a 2-core CPU this ratio measured 1.4-1.9x, because both sides do the same
        # arithmetic there. No GPU run has been made.
        bar=5.0,
        note=f"fast: batches of {batch_size}; baseline: batch_size=1; both reuse the shared prefix",
        repeats=3,
    )
    prefix = Case(
        name=f"Shared-prefix reuse, {prompts} steering prompts, batches of {batch_size}{device_label}",
        fast=batched.fast,
        baseline=score(batch_size, reuse=False),
        bar=1.0,
        note="baseline: the same batches scoring every prompt in full",
        repeats=3,
    )
    shipped = Case(
        name=f"Scorer as shipped against the plain loop, {prompts} steering prompts{device_label}",
        fast=batched.fast,
        baseline=score(1, reuse=False),
        bar=1.0,
        note=f"fast: batches of {batch_size} sharing the prefix; baseline: one prompt at a time, "
        "each run in full (not the issue's bar: it mixes batching with prefix reuse)",
        repeats=3,
    )
    short_texts = steering_prompts(prompts, k=0)
    unsteered = Case(
        name=f"Likert log-prob scoring, {prompts} unsteered prompts, tiny Qwen3{device_label}",
        fast=lambda: likert_probabilities(model, tokenizer, short_texts, batch_size=batch_size),
        baseline=lambda: likert_probabilities(model, tokenizer, short_texts, batch_size=1),
        bar=5.0,
        note=f"the same questions without the prefix (about 140 tokens); batches of {batch_size} vs 1",
        repeats=3,
    )
    return [batched, prefix, shipped, unsteered]


def all_cases(include_scoring: bool = True, only_scoring: bool = False,
              device: str = "cpu") -> list[Case]:
    """Return every case, the largest resampling case last, or only the scoring cases."""
    if only_scoring:
        return scoring_cases(device=device)
    cases = [kendall_case(56), kendall_case(10, bar=1.0)]
    cases += [resampling_case(columns, method) for method in ("spearman", "kendall")
              for columns in (10, 56)]
    if include_scoring:
        cases += scoring_cases(device=device)
    return cases
