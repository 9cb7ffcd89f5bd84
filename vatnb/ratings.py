"""Load the real ValueActionLens value-survey ratings as VAT judgment records.

Each file holds one model's answers to a value survey: in a context (country x
topic) and under one of eight prompt variants, the model rates all 56
micro-values on a 4-point DESCENDING scale (1 = strongly agree / very much like
me). Files: see :data:`vatnb.data.FILES`; models: :data:`vatnb.data.RATING_MODELS`.

A *condition* is written ``MODEL`` (all prompt variants) or ``MODEL@K`` (prompt
variant K only), e.g. ``"gpt-3.5-turbo"`` or ``"gpt-4o-mini@2"``.

Public functions
----------------
read_answers(model)              one row per raw answer with its parse status
answer_summary(models)           answers read fully / partly / not at all, per model
unread_reasons(models)           counts of every reason something was not read
survey_records(condition, unit)  records (method section 1) of one condition
comparison_records(pre, post, unit)  records of two conditions, labelled pre/post
PROMPT_VARIANTS                  framing, option order and instruction of each variant
"""

from __future__ import annotations

import logging
from collections import Counter
from functools import lru_cache

import pandas as pd

from vatnb.data import RATING_MODELS, fetch
from vatnb.parsing import parse_survey_answer
from vatnb.taxonomy import MICRO_VALUES

log = logging.getLogger(__name__)

SCALE_POINTS = 4
SCALE_DESCENDING = True

PROMPT_VARIANTS = pd.DataFrame(
    {
        "prompt_index": range(8),
        "framing": ["claim", "claim", "portrait", "portrait"] * 2,
        "option_order": ["values first", "options first"] * 4,
        "instruction": ["chat"] * 4 + ["completion"] * 4,
    }
).set_index("prompt_index")

# How samples are formed from the answers.
SAMPLE_UNITS = {
    "context": ("country", "topic"),
    "context_prompt": ("country", "topic", "prompt_index"),
}


def _check_model(model: str) -> str:
    if model not in RATING_MODELS:
        raise ValueError(f"unknown rating model {model!r}; available: {', '.join(RATING_MODELS)}")
    return model


@lru_cache(maxsize=8)
def _read_answers_cached(model: str) -> pd.DataFrame:
    raw = pd.read_csv(fetch(f"ratings/{model}"))
    rows = []
    for answer in raw.itertuples(index=False):
        parsed = parse_survey_answer(answer.response, points=SCALE_POINTS)
        rows.append(
            {
                "model": model,
                "country": answer.country,
                "topic": answer.topic,
                "prompt_index": int(answer.prompt_index),
                "status": parsed.status,
                "n_read": len(parsed.ratings),
                "ratings": parsed.ratings,
                "reasons": dict(parsed.reasons),
                "unknown_names": parsed.unknown_names,
                "response": answer.response,
            }
        )
    return pd.DataFrame(rows)


def read_answers(model: str) -> pd.DataFrame:
    """Parse every answer of one model's rating file.

    Returns one row per answer with ``model, country, topic, prompt_index,
    status`` (full / partial / unread), ``n_read`` (micro-values read),
    ``ratings`` (dict), ``reasons`` (dict of reason -> count), ``unknown_names``
    and the raw ``response``.
    """
    return _read_answers_cached(_check_model(model)).copy()


def answer_summary(models=RATING_MODELS) -> pd.DataFrame:
    """Count answers read fully, partly and not at all, per model."""
    frames = [read_answers(model) for model in models]
    answers = pd.concat(frames, ignore_index=True)
    table = answers.pivot_table(
        index="model", columns="status", values="country", aggfunc="size", fill_value=0
    )
    table = table.reindex(columns=["full", "partial", "unread"], fill_value=0)
    table["answers"] = table.sum(axis=1)
    table["ratings read"] = answers.groupby("model")["n_read"].sum()
    return table.reindex(list(models))


def unread_reasons(models=RATING_MODELS) -> pd.DataFrame:
    """Count every reason an answer or one of its items was not read, per model."""
    rows = []
    for model in models:
        counts: Counter = Counter()
        for reasons in read_answers(model)["reasons"]:
            counts.update(reasons)
        rows.append(pd.Series(counts, name=model))
    return pd.DataFrame(rows).fillna(0).astype(int)


def parse_condition(condition: str) -> tuple[str, int | None]:
    """Split ``"MODEL@K"`` into the model and the prompt variant (None for all)."""
    model, _, variant = str(condition).partition("@")
    _check_model(model)
    if not variant:
        return model, None
    if not variant.isdigit() or int(variant) not in PROMPT_VARIANTS.index:
        raise ValueError(
            f"invalid prompt variant in condition {condition!r}: expected MODEL@K with K in 0..7"
        )
    return model, int(variant)


def survey_records(condition: str, unit: str = "context_prompt", label: str | None = None):
    """Return the judgment records of one condition (one row per read rating).

    Unread items do not become rows; their counts are in :func:`answer_summary`
    and :func:`unread_reasons`. ``sign`` is +1 for every record, because in a
    value survey the model rates the value itself.
    """
    if unit not in SAMPLE_UNITS:
        raise ValueError(f"unit must be one of {list(SAMPLE_UNITS)}, got {unit!r}")
    model, variant = parse_condition(condition)
    answers = read_answers(model)
    if variant is not None:
        answers = answers[answers["prompt_index"] == variant]
    rows = []
    for answer in answers.itertuples(index=False):
        sample_key = "|".join(str(getattr(answer, part)) for part in SAMPLE_UNITS[unit])
        for micro_value, rating in answer.ratings.items():
            rows.append(
                (
                    sample_key,
                    f"{answer.country}|{answer.topic}",
                    micro_value,
                    MICRO_VALUES[micro_value][0],
                    rating,
                    answer.country,
                    answer.topic,
                    answer.prompt_index,
                )
            )
    records = pd.DataFrame(
        rows,
        columns=[
            "sample_id",
            "scene_id",
            "micro_value",
            "value",
            "rating",
            "country",
            "topic",
            "prompt_index",
        ],
    )
    records.insert(0, "condition", label or condition)
    records["sign"] = 1
    records["rating"] = records["rating"].astype(float)
    records["scale_points"] = SCALE_POINTS
    records["scale_descending"] = SCALE_DESCENDING
    return records


def comparison_records(pre: str, post: str, unit: str = "context_prompt") -> pd.DataFrame:
    """Return the records of two conditions with ``condition`` set to "pre" and "post".

    A framing change within one model (``"gpt-4o-mini@0"`` -> ``"gpt-4o-mini@2"``)
    needs ``unit="context"``: with the prompt variant in the sample unit, no
    sample could appear in both conditions.
    """
    _, pre_variant = parse_condition(pre)
    _, post_variant = parse_condition(post)
    if unit == "context_prompt" and pre_variant != post_variant:
        raise ValueError(
            f"pre {pre!r} and post {post!r} use different prompt variants, so no sample of "
            "unit 'context_prompt' appears in both; use unit='context' (country x topic)"
        )
    return pd.concat(
        [survey_records(pre, unit, label="pre"), survey_records(post, unit, label="post")],
        ignore_index=True,
    )
