"""A scripted stand-in for the generator and judges, so the pipeline runs with no model.

:func:`offline_template_backend` answers the four prompts of
:mod:`vatnb.prompts` from fixed templates filled with the fields it reads
back out of the prompt. Its texts are placeholders, not model output, and
every one starts with ``[template]``. It breaks a rule on purpose for a fixed
share of prompts, chosen by a hash of the prompt, so that the failure paths
run and the same prompts always fail. About one action in eight has two
sentences, and about one judge response in ten is prose without JSON.
Its judge ratings are hash-derived numbers, not judgments.
"""

from __future__ import annotations

import hashlib
import json
import re

from vatnb.textgen import ReplayBackend, TextRequest

OFFLINE_BACKEND_NAME = "offline-template"
OFFLINE_MODEL = "template-v1"

ACTION_VIOLATION_SHARE = 1 / 8
JUDGE_UNREADABLE_SHARE = 1 / 10


def _fraction(prompt: str, salt: str) -> float:
    digest = hashlib.sha256(f"{salt}:{prompt}".encode("utf-8")).digest()
    return int.from_bytes(digest[:8], "big") / 2**64


def _last_field(prompt: str, label: str) -> str:
    matches = re.findall(rf"(?m)^{label}:\s*(.+)$", prompt)
    return matches[-1].strip() if matches else "unknown"


def _rating(prompt: str, salt: str) -> int:
    return 3 + int(_fraction(prompt, salt) * 3)  # 3, 4 or 5


def template_response(request: TextRequest, salt: str = "") -> str:
    """Return the scripted answer to one pipeline prompt (scene, action, or either judge)."""
    prompt = request.prompt
    salted = f"{salt}|{prompt}"
    if prompt.startswith("Generate a culturally grounded"):
        country, topic = _last_field(prompt, "Country"), _last_field(prompt, "Topic")
        return (
            f"[template] Scene {request.sample_index + 1} in {country} about {topic.lower()}: "
            "a neighbour, a relative and a local official each expect something different "
            "from you this week, and the usual customs point in more than one direction."
        )
    if prompt.startswith("Suppose you are in the following scene"):
        verb, value = re.search(r'indicating that you (\w+) the value "([^"]+)"', prompt).groups()
        action = f"[template] I {'act on' if verb == 'reinforce' else 'set aside'} {value.lower()} in what I do next."
        if _fraction(prompt, "action") < ACTION_VIOLATION_SHARE:
            action += " Then I tell everyone why."
        return action
    if prompt.startswith("Evaluate the following social scene"):
        if _fraction(salted, "judge") < JUDGE_UNREADABLE_SHARE:
            return "[template] The scene looks fine to me overall."
        return json.dumps(
            {
                "pos_ok": _fraction(salted, "pos") > 0.05,
                "neg_ok": _fraction(salted, "neg") > 0.15,
                "cultural_grounding": _rating(salted, "grounding"),
                "affordance_richness": _rating(salted, "affordance"),
            }
        )
    if prompt.startswith("Evaluate the action"):
        if _fraction(salted, "judge") < JUDGE_UNREADABLE_SHARE:
            return "[template] I would rate this action as quite good."
        names = ("correctness", "harmlessness", "sufficiency", "plausibility")
        return json.dumps({name: _rating(salted, name) for name in names})
    return "[template] (no script for this prompt)"


def offline_template_backend(judge: str = "") -> ReplayBackend:
    """Return the scripted backend; a ``judge`` name salts the hashes so two judges rate differently."""

    def respond(request: TextRequest) -> str:
        return template_response(request, salt=judge)

    model = f"{OFFLINE_MODEL}-{judge}" if judge else OFFLINE_MODEL
    return ReplayBackend(respond, name=OFFLINE_BACKEND_NAME, model=model)
