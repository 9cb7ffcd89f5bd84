"""Chapters reject degenerate parameters in their imports cell with a one-line ValueError.

Each case runs a chapter through ``vatnb run`` with one bad value; the chapter stops at
its validation cell (cell 3) before any heavy work, so a case takes a few seconds.
"""

import subprocess
import sys

import pytest

from vatnb import book

CASES = [
    ("02_building_the_dataset", ["countries", ""], "got ''"),
    ("02_building_the_dataset", ["topics", "Work,Work"], "more than once"),
    ("02_building_the_dataset", ["micro_values", "Wealth,,Pleasure"], "empty entry"),
    ("03_human_evaluation", ["n_annotators", "1"], "got 1"),
    ("04_prompt_steering", ["paper_model", "Claude"], "got 'Claude'"),
    ("06_robustness", ["targets", "Power"], "got 'Power'"),
    ("07_case_studies", ["real_pre", "gpt-4o"], "got 'gpt-4o'"),
    ("08_does_vat_measure", ["framing_model", "gpt-5"], "got 'gpt-5'"),
    ("08_does_vat_measure", ["model_pair", "gpt-4o,gpt-4o"], "got ['gpt-4o', 'gpt-4o']"),
    ("02_building_the_dataset", ["split_seed", "-2"], "got -2"),
    ("04_prompt_steering", ["seed", "-1"], "got -1"),
    ("04_prompt_steering", ["sim_gain_overrides", "Power:abc"], "got 'Power:abc'"),
    ("04_prompt_steering", ["backend", "hf"], "needs the model parameter"),
    ("04_prompt_steering", ["rating_rule", "stochastic-rounding"], "with backend 'simulated'"),
    ("06_robustness", ["betas", "0.1,nan"], "got '0.1,nan'"),
    ("07_case_studies", ["seed", "-3"], "got -3"),
    ("01_vat_on_real_judgments", ["pre", "gpt-4o-mini"], "name the same condition"),
    ("04_prompt_steering", ["protocol", "value-survey"], "needs a real model"),
    ("07_case_studies", ["real_pre", "gpt-4o@9"], "K in 0..7"),
    ("06_robustness", ["fraction", "5"], "got 5.0"),
    ("06_robustness", ["betas", "0.1,,0.5"], "empty entry"),
    ("04_prompt_steering", ["shots", "2,8,"], "empty entry"),
    ("07_case_studies", ["real_posts", "gpt-3.5-turbo@0"], "same condition as real_pre"),
]


@pytest.mark.parametrize(("chapter", "parameter", "value_text"), CASES, ids=[f"{case[0][:2]}-{case[1][0]}" for case in CASES])
def test_bad_parameter_fails_at_validation_cell(chapter, parameter, value_text, tmp_path):
    result = subprocess.run(
        [sys.executable, "-m", "vatnb.cli", "run", chapter, "-o", str(tmp_path), "-p", *parameter],
        capture_output=True, text=True, timeout=120,
    )
    assert result.returncode != 0
    last_line = result.stderr.strip().splitlines()[-1]
    assert last_line.startswith(f"vatnb: error: chapter {chapter} failed at cell 3: ValueError: {parameter[0]} ")
    assert value_text in last_line


@pytest.mark.parametrize("chapter", book.chapter_names())
def test_papermill_reads_every_parameter(chapter):
    # papermill parses the parameters cell with its own rules. A line it cannot parse makes
    # it warn on every run and report a valid parameter as unknown.
    from papermill.translators import PythonTranslator

    source = book.chapter_source(chapter)
    notebook = book.read_notebook(source)
    cell = next(c for c in notebook.cells if "parameters" in c.metadata.get("tags", []))
    read_by_papermill = [parameter.name for parameter in PythonTranslator.inspect(cell)]
    assert read_by_papermill == [parameter.name for parameter in book.chapter_parameters(source)]
