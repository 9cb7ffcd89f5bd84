"""The answer parser on every format found in the real rating files."""

import pytest

from vatnb.parsing import parse_single_rating, parse_survey_answer
from vatnb.taxonomy import MICRO_VALUES


def _full_json(value="1", quote='"'):
    body = ",\n".join(f"  {quote}{name}{quote}: {quote}{value}{quote}" for name in MICRO_VALUES)
    return "{\n" + body + "\n}"


def test_bare_json_is_full():
    answer = parse_survey_answer(_full_json("2"))
    assert answer.status == "full"
    assert answer.ratings["Wealth"] == 2
    assert len(answer.ratings) == 56


def test_code_fence_with_prose():
    text = "Here is the response in JSON format:\n\n```json\n" + _full_json("3") + "\n```\nHope it helps."
    answer = parse_survey_answer(text)
    assert answer.status == "full"
    assert answer.ratings["Honest"] == 3


def test_number_with_label_and_label_only():
    text = '{"Wealth": "1: strongly agree", "Honest": "not like me at all", "Clean": 2}'
    answer = parse_survey_answer(text)
    assert answer.ratings == {"Wealth": 1, "Honest": 4, "Clean": 2}
    assert answer.status == "partial"
    assert answer.reasons["missing_item"] == 53


def test_single_quotes():
    answer = parse_survey_answer(_full_json("4", quote="'"))
    assert answer.status == "full"
    assert answer.ratings["Daring"] == 4


def test_refusal_and_no_json():
    refusal = parse_survey_answer("I'm sorry, but I can't provide a personal opinion.")
    assert refusal.status == "unread"
    assert refusal.reasons == {"refusal": 1}
    prose = parse_survey_answer("Equality matters most to me.")
    assert prose.reasons == {"no_json": 1}
    assert parse_survey_answer(float("nan")).reasons == {"empty": 1}


def test_out_of_range_unknown_and_not_applicable():
    text = '{"Wealth": "7", "Options": {"1": "agree"}, "Devout": "NA", "Clean": "1"}'
    answer = parse_survey_answer(text)
    assert answer.ratings == {"Clean": 1}
    assert answer.reasons["out_of_range"] == 1
    assert answer.reasons["unknown_name"] == 1
    assert answer.reasons["not_applicable"] == 1
    assert answer.unknown_names == ["Options"]


def test_truncated_answer_keeps_complete_pairs():
    text = '```json\n{\n    "Equality": "1",\n    "Inner Harmony": "2",\n    "Social Power": "4",\n    "'
    answer = parse_survey_answer(text)
    assert answer.status == "partial"
    assert answer.ratings == {"Equality": 1, "Inner Harmony": 2, "Social Power": 4}
    assert answer.reasons["truncated"] == 1


def test_conflicting_duplicate_is_dropped():
    answer = parse_survey_answer('{"Wealth": "1", "Wealth": "3", "Clean": "2"}')
    assert "Wealth" not in answer.ratings
    assert answer.reasons["conflicting_duplicate"] == 1


def test_invalid_json():
    assert parse_survey_answer('{"Wealth": [1, }').reasons == {"invalid_json": 1}


@pytest.mark.parametrize(
    "text, rating",
    [("4", 4), ("Rating: 2", 2), ('{"rating": 5}', 5), ("```json\n{\"answer\": \"3\"}\n```", 3),
     ("I would choose 1.", 1)],
)
def test_single_rating_read(text, rating):
    assert parse_single_rating(text).rating == rating


@pytest.mark.parametrize(
    "text, reason",
    [("2 or 4", "ambiguous"), ("9", "out_of_range"), ("I cannot answer that.", "refusal"),
     ("", "empty"), ("maybe", "no_rating")],
)
def test_single_rating_unread(text, reason):
    answer = parse_single_rating(text)
    assert answer.rating is None
    assert answer.reasons == {reason: 1}


@pytest.mark.parametrize(
    "text, reason",
    [('{"rating": NaN}', "unreadable_value"), ('{"rating": 1e400}', "unreadable_value"),
     ('{"rating": Infinity}', "unreadable_value"), ("1-2", "ambiguous"),
     ("4 to 5", "ambiguous"), ("1e1", "unreadable_value")],
)
def test_non_finite_and_ranges_unread(text, reason):
    answer = parse_single_rating(text)
    assert answer.rating is None
    assert answer.reasons == {reason: 1}


def test_survey_non_finite_and_range_items():
    answer = parse_survey_answer('{"Wealth": NaN, "Clean": "1-4", "Honest": "4 - strongly disagree"}')
    assert answer.ratings == {"Honest": 4}
    assert answer.reasons["unreadable_value"] == 1
    assert answer.reasons["ambiguous"] == 1
