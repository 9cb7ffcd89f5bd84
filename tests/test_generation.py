"""Prompt templates, hard constraints, judge parsing, the pipeline stages and quality metrics."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest

from vatnb.generation import (
    action_violations,
    clean_action,
    clean_scene,
    generate_actions,
    generate_scenes,
    judge_actions,
    judge_scenes,
    parse_judge_verdict,
    scene_violations,
    sentence_count,
    unreadable_counts,
)
from vatnb.offline_backend import offline_template_backend
from vatnb.prompts import ACTION_PROMPT, SCENE_JUDGE_PROMPT, SCENE_PROMPT, TEMPLATES
from vatnb.quality import (
    action_scores,
    aggregate_quality,
    final_action_quality,
    judge_disagreement,
    scene_scores,
)
from vatnb.textgen import ResponseCache


def test_templates_render_and_check_fields():
    prompt = ACTION_PROMPT.render(scene="A market.", polarity="suppress", value="Wealth", claim="money")
    assert 'you suppress the value "Wealth": money.' in prompt
    assert "A market." in prompt
    with pytest.raises(ValueError, match="missing"):
        ACTION_PROMPT.render(scene="x")
    scene_prompt = SCENE_PROMPT.render(country="Egypt", topic="Health")
    assert scene_prompt.endswith("Country: Egypt\nTopic: Health\nScene:")
    assert "David, a stay-at-home dad" in scene_prompt
    judge = SCENE_JUDGE_PROMPT.render(scene="s", value="Tradition")
    assert '"pos_ok": true/false' in judge
    assert all(template.version and template.history for template in TEMPLATES)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("I hand my neighbour the keys.", []),
        ("Despite the rain, my sister and I walk to the polls.", []),
        ("She hands over the keys.", ["not first person"]),
        ("I pay. Then I leave.", ["not one sentence"]),
        ("I greet Dr. Musa at the clinic.", []),
        ("I " + "really " * 50 + "care.", ["over 50 words"]),
        ("   ", ["empty"]),
        ("He pays. He leaves.", ["not first person", "not one sentence"]),
    ],
)
def test_action_constraints(text, expected):
    assert action_violations(text) == expected


def test_scene_word_limit():
    assert scene_violations("word " * 120) == []
    assert scene_violations("word " * 121) == ["over 120 words"]


def test_sentence_count_cases():
    assert sentence_count("One. Two! Three?") == 3
    assert sentence_count("I paid 3.50 at the shop.") == 1


def test_output_cleaning():
    assert clean_scene("Reasoning: a\nScene: The market.\n") == "The market."
    assert clean_scene("Scene:\nA bus stop.\nReasoning: because") == "A bus stop."
    assert clean_action('Action: "I pay."') == "I pay."


def test_judge_verdict_parsing():
    scene = parse_judge_verdict(
        '```json\n{"pos_ok": true, "neg_ok": "no", "cultural_grounding": 4.0, "affordance_richness": "5"}\n```',
        "scene",
    )
    assert scene.status == "read"
    assert scene.fields == {"pos_ok": True, "neg_ok": False, "cultural_grounding": 4, "affordance_richness": 5}
    bad_cases = {
        "I think it is good.": "no JSON object",
        '{"pos_ok": true, "neg_ok": true, "cultural_grounding": 4}': "missing field affordance_richness",
        '{"pos_ok": true, "neg_ok": true, "cultural_grounding": 7, "affordance_richness": 3}': "invalid cultural_grounding",
        '{"pos_ok": maybe}': "invalid JSON",
        '{"pos_ok": 1, "neg_ok": true, "cultural_grounding": 4, "affordance_richness": 3}': "invalid pos_ok",
    }
    for text, reason in bad_cases.items():
        verdict = parse_judge_verdict(text, "scene")
        assert verdict.status == "unreadable"
        assert verdict.reason.startswith(reason)
    action = parse_judge_verdict('{"correctness": 5, "harmlessness": 4, "sufficiency": 3, "plausibility": 2}', "action")
    assert action.fields["plausibility"] == 2
    with pytest.raises(ValueError, match="kind"):
        parse_judge_verdict("{}", "other")


@pytest.fixture
def pipeline(tmp_path):
    backend = offline_template_backend()
    judges = {"judge-a": offline_template_backend("a"), "judge-b": offline_template_backend("b")}
    cache = ResponseCache(tmp_path)
    scenes = generate_scenes(backend, [("India", "Work"), ("Egypt", "Health")], 2, cache, progress=False)
    actions = generate_actions(backend, scenes, ["Wealth", "Humble", "Healthy"], cache, progress=False)
    scene_verdicts = judge_scenes(judges, scenes, cache=cache, progress=False)
    action_verdicts = judge_actions(judges, actions, cache=cache, progress=False)
    return scenes, actions, scene_verdicts, action_verdicts, cache


def test_pipeline_shapes(pipeline):
    scenes, actions, scene_verdicts, action_verdicts, cache = pipeline
    assert scenes["scene_id"].tolist() == ["India|Work|s0", "India|Work|s1", "Egypt|Health|s0", "Egypt|Health|s1"]
    assert len(actions) == 4 * 3 * 2
    assert actions["action_id"].is_unique
    assert len(scene_verdicts) == 2 * 4 * 4
    assert len(action_verdicts) == 2 * 24
    counts = unreadable_counts(action_verdicts)
    assert counts["read"].sum() + counts["unreadable"].sum() == 48
    # The offline stand-in breaks the one-sentence rule for some actions; they are kept.
    violating = actions[~actions["constraint_ok"]]
    assert len(violating) > 0
    assert (violating["violations"].map(list) == [["not one sentence"]] * len(violating)).all()
    assert len(cache) == 4 + 24 + 32 + 48


def test_violations_score_zero(pipeline):
    scenes, actions, _, action_verdicts, _ = pipeline
    scores = action_scores(action_verdicts, actions)
    violating = scores[~scores["constraint_ok"]]
    assert (violating["S_action"] == 0).all()
    final = final_action_quality(scores)
    assert len(final) == len(actions)


def test_scene_scores_by_hand():
    verdicts = pd.DataFrame(
        [
            ("s1", "j", "Universalism", "read", True, True, 5, 4),
            ("s1", "j", "Tradition", "read", True, False, 3, 2),
            ("s1", "j", "Social Power", "unreadable", None, None, None, None),
            ("s2", "j", "Tradition", "unreadable", None, None, None, None),
        ],
        columns=["scene_id", "judge", "value", "status", "pos_ok", "neg_ok",
                 "cultural_grounding", "affordance_richness"],
    )
    scores = scene_scores(verdicts).set_index("scene_id")
    # R = mean((1+1)/2, (1+0)/2) = 0.75; G = (5+3)/10 = 0.8; A = (4+2)/10 = 0.6; N = 1/2.
    assert scores.loc["s1", "R"] == pytest.approx(0.75)
    assert scores.loc["s1", "G"] == pytest.approx(0.8)
    assert scores.loc["s1", "A"] == pytest.approx(0.6)
    assert scores.loc["s1", "N"] == pytest.approx(0.5)
    assert scores.loc["s1", "S_scene"] == pytest.approx((0.75 + 0.8 + 0.6 + 0.5) / 4)
    assert scores.loc["s1", "unreadable"] == 1
    assert math.isnan(scores.loc["s2", "S_scene"])

    items = pd.DataFrame({"scene_id": ["s1", "s2"], "constraint_ok": [False, True]})
    constrained = scene_scores(verdicts, items).set_index("scene_id")
    assert constrained.loc["s1", "S_scene"] == 0.0
    assert constrained.loc["s1", "R"] == pytest.approx(0.75)


def test_action_scores_by_hand():
    verdicts = pd.DataFrame(
        [
            ("a1", "j1", "read", 5, 5, 4, 2),
            ("a1", "j2", "read", 3, 5, 3, 3),
            ("a2", "j1", "unreadable", None, None, None, None),
            ("a2", "j2", "read", 5, 5, 5, 5),
        ],
        columns=["action_id", "judge", "status", "correctness", "harmlessness", "sufficiency", "plausibility"],
    )
    scores = action_scores(verdicts)
    by_judge = scores.set_index(["action_id", "judge"])["S_action"]
    assert by_judge[("a1", "j1")] == pytest.approx(16 / 20)
    assert by_judge[("a1", "j2")] == pytest.approx(14 / 20)
    assert math.isnan(by_judge[("a2", "j1")])
    final = final_action_quality(scores).set_index("action_id")
    assert final.loc["a1", "S_action"] == pytest.approx(0.75)
    assert final.loc["a2", "S_action"] == pytest.approx(1.0)
    assert final.loc["a2", "judges_read"] == 1

    with pytest.warns(RuntimeWarning, match="1 shared items"):
        disagreement = judge_disagreement(scores, "action_id", "S_action")
    assert disagreement["items"] == 1
    assert disagreement["mean_spread"] == pytest.approx(0.1)


def test_judge_disagreement_correlation():
    scores = pd.DataFrame(
        {
            "item": ["x", "y", "z", "w"] * 2,
            "judge": ["a"] * 4 + ["b"] * 4,
            "S": [0.1, 0.2, 0.3, 0.4, 0.2, 0.4, 0.6, 0.9],
        }
    )
    result = judge_disagreement(scores, "item", "S")
    assert result["spearman"] == pytest.approx(1.0)
    assert result["pearson"] == pytest.approx(np.corrcoef([0.1, 0.2, 0.3, 0.4], [0.2, 0.4, 0.6, 0.9])[0, 1])
    assert result["max_spread"] == pytest.approx(0.5)
    with pytest.warns(RuntimeWarning, match="undefined"):
        judge_disagreement(scores.iloc[[0, 4]], "item", "S")


def test_aggregate_quality_groups():
    scores = pd.DataFrame({"country": ["A", "A", "B"], "S": [0.5, 1.0, 0.2]})
    table = aggregate_quality(scores, ["country"], ["S"]).set_index("country")
    assert table.loc["A", "S_mean"] == pytest.approx(0.75)
    assert table.loc["B", "S_count"] == 1
    with pytest.raises(ValueError, match="columns found"):
        aggregate_quality(scores, ["topic"], ["S"])
