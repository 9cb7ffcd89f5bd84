"""The two-stage scene/action generation pipeline and its LLM judges.

Stage I writes scenes per (country, topic); Stage II writes, for each scene,
micro-value and polarity, one first-person action. Two judges rate scenes per
diagnostic value and actions per item, and return JSON. Prompt texts come
from :mod:`vatnb.prompts`; free-text generation goes through
:mod:`vatnb.textgen`, so every stage is cached and resumable.

Hard constraints (paper, Appendix B.2.2 and the scene prompt): an action is
first person, one sentence, at most 50 words; a scene is at most 120 words.
Violating outputs are kept with the list of violations, and their quality
score is set to 0 by :mod:`vatnb.quality`.
"""

from __future__ import annotations

import json
import logging
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

import pandas as pd

from vatnb.prompts import (
    ACTION_JUDGE_PROMPT,
    ACTION_PROMPT,
    SCENE_JUDGE_PROMPT,
    SCENE_PROMPT,
    polarity_verb,
)
from vatnb.taxonomy import MICRO_VALUES, canonical_micro_value, value_of
from vatnb.textgen import DecodingSettings, ResponseCache, TextBackend, TextRequest, generate_texts

log = logging.getLogger(__name__)

MAX_ACTION_WORDS = 50
MAX_SCENE_WORDS = 120

# Diagnostic values of the scene judge, spelled as Chen and Shen list them (Appendix B.1.3).
DIAGNOSTIC_VALUES: tuple[str, ...] = ("Universalism", "Social Power", "Tradition", "Self-Direction")

# Judges rate without sampling, so that reruns and replays agree.
JUDGE_SETTINGS = DecodingSettings(temperature=0.0, max_tokens=200)

_FIRST_PERSON = re.compile(r"\b(I|me|my|mine|myself)\b")
_SENTENCE_END = re.compile(r"(?<=[.!?])[\"'”’)]*\s+(?=[\"'“‘(]?[A-Z0-9])")
_ABBREVIATIONS = ("Mr.", "Mrs.", "Ms.", "Dr.", "St.", "e.g.", "i.e.", "etc.", "vs.", "U.S.", "U.K.")


# ---------------------------------------------------------------- constraints


def word_count(text: str) -> int:
    """Return the number of whitespace-separated words."""
    return len(text.split())


def sentence_count(text: str) -> int:
    """Count sentences: a split after ``.``, ``!`` or ``?`` before a capital, skipping common abbreviations."""
    pieces = [piece for piece in _SENTENCE_END.split(text.strip()) if piece.strip()]
    count = len(pieces)
    for piece in pieces[:-1]:
        if piece.rstrip().endswith(_ABBREVIATIONS):
            count -= 1
    return max(count, 0)


def action_violations(text: str) -> list[str]:
    """Return the hard-constraint violations of an action (empty list when it complies)."""
    text = text.strip()
    if not text:
        return ["empty"]
    violations = []
    if not _FIRST_PERSON.search(text):
        violations.append("not first person")
    if sentence_count(text) != 1:
        violations.append("not one sentence")
    if word_count(text) > MAX_ACTION_WORDS:
        violations.append(f"over {MAX_ACTION_WORDS} words")
    return violations


def scene_violations(text: str) -> list[str]:
    """Return the hard-constraint violations of a scene (empty list when it complies)."""
    text = text.strip()
    if not text:
        return ["empty"]
    if word_count(text) > MAX_SCENE_WORDS:
        return [f"over {MAX_SCENE_WORDS} words"]
    return []


def clean_scene(output: str) -> str:
    """Return the scene part of a generator output (after a ``Scene:`` label, before ``Reasoning:``)."""
    text = output.strip()
    labelled = re.split(r"(?im)^\s*\**scene\**\s*:\s*", text)
    if len(labelled) > 1:
        text = labelled[-1]
    text = re.split(r"(?im)^\s*\**reasoning\**\s*:", text)[0]
    return text.strip()


def clean_action(output: str) -> str:
    """Return an action without an ``Action:`` label or surrounding quotes; nothing else changes."""
    text = re.sub(r"(?i)^\s*\**action\**\s*:\s*", "", output.strip())
    if len(text) >= 2 and text[0] in "\"“" and text[-1] in "\"”":
        text = text[1:-1]
    return text.strip()


# ---------------------------------------------------------------- judge verdicts

SCENE_VERDICT_FIELDS: dict[str, str] = {
    "pos_ok": "bool",
    "neg_ok": "bool",
    "cultural_grounding": "rating",
    "affordance_richness": "rating",
}
ACTION_VERDICT_FIELDS: dict[str, str] = {
    "correctness": "rating",
    "harmlessness": "rating",
    "sufficiency": "rating",
    "plausibility": "rating",
}


@dataclass(frozen=True)
class JudgeVerdict:
    """A parsed judge verdict: ``status`` is ``"read"`` or ``"unreadable"``, and then ``reason`` gives the cause."""

    status: str
    fields: dict = field(default_factory=dict)
    reason: str | None = None


def parse_judge_verdict(text: str, kind: str) -> JudgeVerdict:
    """Parse a judge's JSON output for a ``"scene"`` or an ``"action"`` verdict.

    The JSON object may sit inside code fences or prose. Booleans accept JSON
    true/false and the strings "true"/"false"/"yes"/"no"; ratings accept
    whole numbers 1-5 (also written as ``4.0`` or ``"4"``). Any missing or
    invalid field makes the whole verdict unreadable; nothing is guessed.
    """
    if kind not in ("scene", "action"):
        raise ValueError(f"kind must be 'scene' or 'action', got {kind!r}")
    expected = SCENE_VERDICT_FIELDS if kind == "scene" else ACTION_VERDICT_FIELDS
    start, end = text.find("{"), text.rfind("}")
    if start < 0 or end <= start:
        return JudgeVerdict("unreadable", reason="no JSON object")
    try:
        parsed = json.loads(text[start : end + 1])
    except json.JSONDecodeError as error:
        return JudgeVerdict("unreadable", reason=f"invalid JSON ({error.msg})")
    if not isinstance(parsed, dict):
        return JudgeVerdict("unreadable", reason="JSON is not an object")
    fields = {}
    for name, field_type in expected.items():
        if name not in parsed:
            return JudgeVerdict("unreadable", reason=f"missing field {name}")
        value = _read_bool(parsed[name]) if field_type == "bool" else _read_rating(parsed[name])
        if value is None:
            return JudgeVerdict("unreadable", reason=f"invalid {name}: {parsed[name]!r}")
        fields[name] = value
    return JudgeVerdict("read", fields)


def _read_bool(raw: object) -> bool | None:
    if isinstance(raw, bool):
        return raw
    if isinstance(raw, str) and raw.strip().casefold() in ("true", "yes", "false", "no"):
        return raw.strip().casefold() in ("true", "yes")
    return None


def _read_rating(raw: object) -> int | None:
    if isinstance(raw, bool):
        return None
    try:
        number = float(raw)
    except (TypeError, ValueError):
        return None
    if number != int(number) or not 1 <= number <= 5:
        return None
    return int(number)


# ---------------------------------------------------------------- pipeline stages


def generate_scenes(
    backend: TextBackend,
    pairs: Sequence[tuple[str, str]],
    scenes_per_pair: int = 2,
    cache: ResponseCache | None = None,
    settings: DecodingSettings = DecodingSettings(),
    progress: bool = True,
) -> pd.DataFrame:
    """Run Stage I: ``scenes_per_pair`` scenes for each (country, topic) pair.

    Returns one row per scene: ``scene_id`` (``"country|topic|s<k>"``),
    ``country``, ``topic``, ``scene`` (cleaned output), ``raw_output``,
    ``violations`` (list) and ``constraint_ok``.
    """
    if scenes_per_pair < 1:
        raise ValueError(f"scenes_per_pair must be at least 1, got {scenes_per_pair}")
    keys, requests = [], []
    for country, topic in pairs:
        prompt = SCENE_PROMPT.render(country=country, topic=topic)
        for index in range(scenes_per_pair):
            keys.append((f"{country}|{topic}|s{index}", country, topic))
            requests.append(TextRequest(prompt, settings, sample_index=index))
    results = generate_texts(backend, requests, cache, description="Stage I scenes", progress=progress)
    rows = []
    for (scene_id, country, topic), result in zip(keys, results):
        scene = clean_scene(result.text)
        violations = scene_violations(scene)
        rows.append((scene_id, country, topic, scene, result.text, violations, not violations))
    return pd.DataFrame(
        rows,
        columns=["scene_id", "country", "topic", "scene", "raw_output", "violations", "constraint_ok"],
    )


def generate_actions(
    backend: TextBackend,
    scenes: pd.DataFrame,
    micro_values: Sequence[str],
    cache: ResponseCache | None = None,
    settings: DecodingSettings = DecodingSettings(),
    progress: bool = True,
) -> pd.DataFrame:
    """Run Stage II: an expressing and a suppressing action per scene and micro-value.

    Returns the :mod:`vatnb.dataset` schema columns plus ``action_id``,
    ``raw_output``, ``violations`` and ``constraint_ok``.
    """
    names = [canonical_micro_value(name) for name in micro_values]
    items, requests = [], []
    for scene in scenes.itertuples(index=False):
        for name in names:
            for polarity in ("express", "suppress"):
                prompt = ACTION_PROMPT.render(
                    scene=scene.scene,
                    polarity=polarity_verb(polarity),
                    value=name,
                    claim=MICRO_VALUES[name][1],
                )
                items.append((scene, name, polarity))
                requests.append(TextRequest(prompt, settings))
    results = generate_texts(backend, requests, cache, description="Stage II actions", progress=progress)
    rows = []
    for (scene, name, polarity), result in zip(items, results):
        action = clean_action(result.text)
        violations = action_violations(action)
        rows.append(
            {
                "scene_id": scene.scene_id,
                "country": scene.country,
                "topic": scene.topic,
                "scene": scene.scene,
                "micro_value": name,
                "value": value_of(name),
                "polarity": polarity,
                "action": action,
                "split": None,
                "provenance": f"generated:{backend.name}/{backend.model}",
                "action_id": f"{scene.scene_id}|{name}|{polarity}",
                "raw_output": result.text,
                "violations": violations,
                "constraint_ok": not violations,
            }
        )
    return pd.DataFrame(rows)


def judge_scenes(
    judges: Mapping[str, TextBackend],
    scenes: pd.DataFrame,
    diagnostic_values: Sequence[str] = DIAGNOSTIC_VALUES,
    cache: ResponseCache | None = None,
    settings: DecodingSettings = JUDGE_SETTINGS,
    progress: bool = True,
) -> pd.DataFrame:
    """Ask every judge about every scene and diagnostic value.

    Returns one row per (scene, judge, value): ``scene_id``, ``judge``,
    ``value``, ``status``, ``reason`` and the fields of
    :data:`SCENE_VERDICT_FIELDS` (missing when unreadable).
    """
    items = [(scene.scene_id, scene.scene, value) for scene in scenes.itertuples() for value in diagnostic_values]
    rows = []
    for judge_name, backend in judges.items():
        requests = [
            TextRequest(SCENE_JUDGE_PROMPT.render(scene=scene, value=value), settings)
            for _, scene, value in items
        ]
        results = generate_texts(
            backend, requests, cache, description=f"scene judge {judge_name}", progress=progress
        )
        for (scene_id, _, value), result in zip(items, results):
            verdict = parse_judge_verdict(result.text, "scene")
            rows.append(
                {"scene_id": scene_id, "judge": judge_name, "value": value,
                 "status": verdict.status, "reason": verdict.reason, **verdict.fields}
            )
    return _with_fields(pd.DataFrame(rows), SCENE_VERDICT_FIELDS)


def judge_actions(
    judges: Mapping[str, TextBackend],
    actions: pd.DataFrame,
    cache: ResponseCache | None = None,
    settings: DecodingSettings = JUDGE_SETTINGS,
    progress: bool = True,
) -> pd.DataFrame:
    """Ask every judge about every action.

    Returns one row per (action, judge): ``action_id``, ``judge``,
    ``status``, ``reason`` and the fields of :data:`ACTION_VERDICT_FIELDS`.
    """
    rows = []
    for judge_name, backend in judges.items():
        requests = [
            TextRequest(
                ACTION_JUDGE_PROMPT.render(
                    scene=item.scene,
                    value=item.micro_value,
                    claim=MICRO_VALUES[item.micro_value][1],
                    polarity=polarity_verb(item.polarity),
                    action=item.action,
                ),
                settings,
            )
            for item in actions.itertuples()
        ]
        results = generate_texts(
            backend, requests, cache, description=f"action judge {judge_name}", progress=progress
        )
        for action_id, result in zip(actions["action_id"], results):
            verdict = parse_judge_verdict(result.text, "action")
            rows.append(
                {"action_id": action_id, "judge": judge_name, "status": verdict.status,
                 "reason": verdict.reason, **verdict.fields}
            )
    return _with_fields(pd.DataFrame(rows), ACTION_VERDICT_FIELDS)


def _with_fields(table: pd.DataFrame, fields: Mapping[str, str]) -> pd.DataFrame:
    for name in fields:
        if name not in table.columns:
            table[name] = None
    return table


def unreadable_counts(verdicts: pd.DataFrame) -> pd.DataFrame:
    """Count verdicts per judge by status, with the reasons of the unreadable ones."""
    counts = verdicts.groupby(["judge", "status"]).size().unstack(fill_value=0)
    for status in ("read", "unreadable"):
        if status not in counts.columns:
            counts[status] = 0
    return counts[["read", "unreadable"]].reset_index()


BACKEND_KINDS = ("offline-template", "openai", "transformers", "replay")


def make_backend(
    kind: str,
    model: str = "",
    base_url: str = "",
    api_key_variable: str = "OPENAI_API_KEY",
    judge: str = "",
) -> TextBackend:
    """Build a text backend by name, for chapters and scripts.

    - ``"offline-template"``: the scripted stand-in of
      :mod:`vatnb.offline_backend` (``judge`` salts its ratings).
    - ``"openai"``: an OpenAI-compatible server at ``base_url`` (empty: the
      OpenAI default) with the key in ``api_key_variable``.
    - ``"transformers"``: a local model folder or hub id in ``model``.
    - ``"replay"``: responses only from a cache that the ``"openai"``
      backend recorded for ``model``.
    """
    from vatnb.offline_backend import offline_template_backend
    from vatnb.textgen import HuggingFaceBackend, OpenAICompatibleBackend, ReplayBackend

    if kind == "offline-template":
        return offline_template_backend(judge)
    if kind in ("openai", "transformers", "replay") and not model:
        raise ValueError(f"backend {kind!r} needs a model name; set model=")
    if kind == "openai":
        return OpenAICompatibleBackend(model, base_url=base_url or None, api_key_variable=api_key_variable)
    if kind == "transformers":
        return HuggingFaceBackend(model)
    if kind == "replay":
        return ReplayBackend(None, name=OpenAICompatibleBackend.name, model=model)
    raise ValueError(f"unknown backend {kind!r}; expected one of {BACKEND_KINDS}")
