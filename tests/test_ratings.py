"""The real ValueActionLens rating files: every answer counted, read or not."""

import pandas as pd
import pytest

from vatnb import metrics, ratings

# Counted once on the files at commit 3c5e013 (see vatnb.data.FILES); an answer is
# "partial" when some of its 56 micro-values could not be read.
EXPECTED = {
    "gpt-3.5-turbo": {"full": 1055, "partial": 1, "unread": 0, "ratings read": 59135},
    "gpt-4o-mini": {"full": 1055, "partial": 1, "unread": 0, "ratings read": 59087},
    "gpt-4o": {"full": 867, "partial": 0, "unread": 5, "ratings read": 48552},
    "Llama-3.3-70B-Instruct": {"full": 1056, "partial": 0, "unread": 0, "ratings read": 59136},
}


def test_answer_counts_on_all_four_files(real_data):
    summary = ratings.answer_summary()
    for model, expected in EXPECTED.items():
        for column, count in expected.items():
            assert summary.loc[model, column] == count, (model, column)


def test_unread_reasons_on_real_files(real_data):
    reasons = ratings.unread_reasons()
    assert reasons.loc["gpt-4o", "refusal"] == 5
    assert reasons.loc["gpt-4o-mini", "truncated"] == 1
    assert reasons.loc["Llama-3.3-70B-Instruct", "unknown_name"] == 6
    assert reasons.loc["gpt-3.5-turbo", "missing_item"] == 1


def test_model_change_headline_numbers(real_data):
    records = ratings.comparison_records("gpt-3.5-turbo", "gpt-4o-mini")
    shifts = metrics.paired_shifts(metrics.value_scores(records), "pre", "post")
    summary = metrics.vat_summary(shifts)
    assert summary.n_samples == 1056
    assert summary.n_values == 10
    assert summary.null_floor == pytest.approx((9 / 1055) ** 0.5)
    assert summary.nvat > 5 * summary.null_floor


def test_framing_change_needs_context_unit(real_data):
    with pytest.raises(ValueError, match="unit='context'"):
        ratings.comparison_records("gpt-4o-mini@0", "gpt-4o-mini@2")
    records = ratings.comparison_records("gpt-4o-mini@0", "gpt-4o-mini@2", unit="context")
    assert set(records["condition"]) == {"pre", "post"}
    assert records["sample_id"].nunique() == 132


def test_records_follow_the_record_schema(real_data):
    records = ratings.survey_records("gpt-4o@3")
    assert set(metrics.RECORD_COLUMNS) <= set(records.columns)
    assert (records["sign"] == 1).all()
    assert records["scale_descending"].all()
    assert pd.api.types.is_float_dtype(records["rating"])


def test_bad_condition_names():
    with pytest.raises(ValueError, match="unknown rating model 'gpt-5'"):
        ratings.parse_condition("gpt-5")
    with pytest.raises(ValueError, match="K in 0..7"):
        ratings.parse_condition("gpt-4o@9")
