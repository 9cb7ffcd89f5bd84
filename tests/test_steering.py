"""Steering prefixes: template fields, decision lines, example draws, the cell summary."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from vatnb import steering
from vatnb.dataset import builtin_offline_set
from vatnb.simulator import SimulatorSettings, simulate
from vatnb.splits import split_scenes


@pytest.fixture(scope="module")
def items():
    table = builtin_offline_set(countries=["India", "Egypt"], topics=["Family", "Work", "Health"],
                                scenes_per_pair=3)
    return split_scenes(table, test_fraction=0.3, seed=0)


def test_decision_matches_direction():
    assert steering.decision_line(1, "reinforce") == steering.TAKE
    assert steering.decision_line(-1, "reinforce") == steering.DECLINE
    assert steering.decision_line(1, "suppress") == steering.DECLINE
    assert steering.decision_line(-1, "suppress") == steering.TAKE
    with pytest.raises(ValueError, match="direction"):
        steering.decision_line(1, "boost")


def test_examples_only_from_train(items):
    test_scenes = set(items.loc[items["split"] == "test", "scene_id"])
    examples = steering.select_examples(items, "Security", 8, seed=1, test_scene_ids=test_scenes)
    assert len(examples) == 8
    assert set(examples["split"]) == {"train"}
    assert not set(examples["scene_id"]) & test_scenes
    assert set(examples["value"]) == {"Security"}
    signs = [1 if p == "express" else -1 for p in examples["polarity"]]
    assert sorted(signs).count(1) == 4


def test_examples_seeded(items):
    first = steering.select_examples(items, "Power", 4, seed=3)
    again = steering.select_examples(items, "Power", 4, seed=3)
    other = steering.select_examples(items, "Power", 4, seed=4)
    assert first["action"].tolist() == again["action"].tolist()
    assert first["action"].tolist() != other["action"].tolist()


def test_examples_too_few_raises(items):
    with pytest.raises(ValueError, match="training examples"):
        steering.select_examples(items.head(10).assign(split="train"), "Hedonism", 8)


def test_prefix_has_template_fields(items):
    examples = steering.select_examples(items, "Power", 2, seed=0)
    prefix = steering.steering_prefix("Power", "suppress", examples)
    assert prefix.startswith("Below are examples of personal decisions")
    assert 'consistently suppress "Power,"' in prefix
    assert "social status and prestige" in prefix
    assert "social power; authority; wealth" in prefix
    assert "declines actions that express Power" in prefix
    assert prefix.count("Decision:") == 2
    for row in examples.itertuples():
        sign = 1 if row.polarity == "express" else -1
        block = f"Action: {row.action}\nDecision: {steering.decision_line(sign, 'suppress')}"
        assert block in prefix


def test_evaluation_items_protocols(items):
    test_items = items[items["split"] == "test"]
    action = steering.evaluation_items(test_items, "pre")
    assert len(action) == len(test_items)
    assert (action["scale_points"] == 5).all()
    assert not action["scale_descending"].any()
    assert action["prompt"].iloc[0].startswith("Suppose you are in the following scene.")
    survey = steering.evaluation_items(test_items, "pre", protocol="value-survey")
    contexts = test_items[["country", "topic"]].drop_duplicates()
    assert len(survey) == len(contexts) * 56
    assert (survey["sign"] == 1).all()
    assert survey["scale_descending"].all()


def test_prompt_prefix_joined():
    prompt = steering.action_prompt("A bus stop.", "I wait.", prefix="PREFIX")
    assert prompt.startswith("PREFIX\nSuppose you are")


def test_resampled_nvat_subsets():
    rng = np.random.default_rng(0)
    shifts = pd.DataFrame(rng.normal(size=(50, 4)), columns=list("abcd"))
    draws = steering.resampled_nvat(shifts, n_resamples=5, fraction=0.8, seed=0)
    assert draws.shape == (5,)
    assert np.all(draws > 0)
    full = steering.resampled_nvat(shifts, n_resamples=2, fraction=1.0, seed=0)
    assert full[0] == pytest.approx(full[1])


def test_steering_cell_summary():
    simulation = simulate(300, SimulatorSettings(rho=0.5, micro_values_per_value=2),
                          target="Security", shots=(8,), seed=0)
    cell = steering.steering_cell(simulation.records, "k=8", "Security", "reinforce", n_resamples=10)
    assert cell["N"] == 300
    assert cell["gain"] > 0
    assert cell["nvat"] > cell["null_floor"]
    assert 0 <= cell["gini"] < 1
    assert cell["nvat_std"] > 0


def _execute_chapter(tmp_path, parameters):
    jupytext = pytest.importorskip("jupytext")
    papermill = pytest.importorskip("papermill")
    from pathlib import Path

    root = Path(__file__).resolve().parent.parent
    notebook = jupytext.read(root / "notebooks" / "04_prompt_steering.py")
    notebook.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    output = tmp_path / "04_out.ipynb"
    papermill.execute_notebook(notebook, str(output), kernel_name="python3", cwd=str(root / "notebooks"),
                               parameters={"cache_dir": str(tmp_path / "cache"), **parameters},
                               progress_bar=False)
    return output


@pytest.mark.book
def test_chapter_runs_with_hf(tmp_path):
    from vatnb.tinymodel import tiny_qwen3

    model_path = tiny_qwen3(tmp_path / "tiny")
    shared = {"targets": "Security:reinforce", "shots": "2", "scenes_per_pair": 1, "max_test_scenes": 4,
              "micro_values_per_value": 1, "n_resamples": 5}
    recorded = tmp_path / "records.csv"
    output = _execute_chapter(tmp_path, {"backend": "hf", "model": str(model_path), "records_file": str(recorded),
                                         "rating_rule": "stochastic-rounding", **shared})
    text = output.read_text()
    assert "paper, Table 2/10" in text
    assert "next-token probabilities" in text

    # The saved records replay to the same judgments, through a fresh cache.
    replay_dir = tmp_path / "replay"
    replay_dir.mkdir()
    replayed = tmp_path / "replayed.csv"
    _execute_chapter(replay_dir, {"backend": "replay", "model": str(recorded),
                                  "records_file": str(replayed), **shared})
    first, second = pd.read_csv(recorded), pd.read_csv(replayed)
    assert len(first) == len(second) > 0
    pd.testing.assert_series_equal(first["rating"], second["rating"])
    # Stochastic rounding spreads the near-uniform tiny model over several ratings.
    assert first["rating"].nunique() > 1
    assert (first["rating"] != first["argmax_rating"]).any()


@pytest.mark.book
def test_chapter_rejects_api_key_parameter(tmp_path):
    papermill = pytest.importorskip("papermill")
    with pytest.raises(papermill.PapermillExecutionError, match="environment variable"):
        _execute_chapter(tmp_path, {"backend": "openai", "api_key_variable": "sk-abcdefghijklmnop1234"})


def test_circumplex_projection_without_load():
    import matplotlib.pyplot as plt
    import numpy as np
    import pandas as pd

    from vatnb.plots_steering import circumplex_projection
    from vatnb.taxonomy import VALUES

    for loads in (pd.Series(np.nan, index=list(VALUES)), pd.Series(0.0, index=list(VALUES))):
        figure = circumplex_projection(loads, "constant ratings", "test")
        texts = [text.get_text() for text in figure.axes[0].texts]
        plt.close(figure)
        assert any("no load to place" in text for text in texts)


def test_circumplex_projection_resultant_points_to_load():
    import matplotlib.pyplot as plt
    import pandas as pd

    from vatnb.plots_steering import circumplex_projection
    from vatnb.taxonomy import VALUES

    loads = pd.Series(0.01, index=list(VALUES))
    loads[VALUES[0]] = 1.0
    figure = circumplex_projection(loads, "one value", "test")
    title = figure.axes[0].get_title()
    plt.close(figure)
    assert "resultant length" in title
    assert float(title.split("resultant length ")[1].split(" ")[0]) > 0.8
