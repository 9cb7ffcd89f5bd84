"""The command line rejects bad parameters before anything executes."""

import subprocess
import sys
from pathlib import Path

import pytest

from vatnb import book, cli

CHAPTER = "01_vat_on_real_judgments"


@pytest.fixture
def no_execution(monkeypatch):
    calls = []
    monkeypatch.setattr(book, "execute_chapter", lambda *args, **kwargs: calls.append(args))
    return calls


def test_misspelled_parameter_rejected(no_execution, capsys):
    status = cli.main(["run", CHAPTER, "-p", "n_permutation", "10"])
    error = capsys.readouterr().err.strip()
    assert status != 0
    assert no_execution == []
    assert len(error.splitlines()) == 1
    assert "unknown parameter 'n_permutation'" in error
    assert "did you mean 'n_permutations'" in error


def test_string_for_number_rejected(no_execution, capsys):
    status = cli.main(["run", CHAPTER, "-p", "seed", "seven"])
    error = capsys.readouterr().err.strip()
    assert status != 0
    assert no_execution == []
    assert error == "vatnb: error: parameter 'seed' expects int, got 'seven'"


def test_credential_rejected(no_execution, capsys):
    status = cli.main(["run", CHAPTER, "-p", "pre", "sk-abc123def456"])
    assert status != 0
    assert "environment variable" in capsys.readouterr().err
    assert no_execution == []


def test_unknown_chapter_suggests_name(capsys):
    assert cli.main(["run", "01_vat_on_reel_judgments"]) != 0
    assert "did you mean '01_vat_on_real_judgments'" in capsys.readouterr().err.lower()


def test_chapter_number_prefix_resolves(no_execution):
    assert cli.main(["run", "01"]) == 0
    source, output, values = no_execution[0]
    assert Path(source).name == f"{CHAPTER}.py"
    assert Path(output).name == f"{CHAPTER}.ipynb"


def test_ambiguous_prefix_rejected(capsys):
    assert cli.main(["run", "0"]) != 0
    error = capsys.readouterr().err
    assert "matches several chapters" in error
    assert "01_vat_on_real_judgments" in error


def test_non_finite_number_rejected(no_execution, capsys):
    for value in ("nan", "inf", "Infinity"):
        status = cli.main(["run", "03_human_evaluation", "-p", "rater_noise", value])
        assert status != 0
        assert capsys.readouterr().err.strip() == (
            f"vatnb: error: parameter 'rater_noise' must be a finite number, got {value!r}"
        )
    assert no_execution == []


def test_non_finite_list_entry_rejected(no_execution, capsys):
    assert cli.main(["run", "08_does_vat_measure", "-p", "sigma_m_grid", "0,nan"]) != 0
    assert "parameter 'sigma_m_grid' must be a finite number, got 'nan'" in capsys.readouterr().err
    assert no_execution == []


def test_valid_parameters_are_typed(no_execution):
    assert cli.main(["run", CHAPTER, "-p", "n_permutations", "10", "-p", "centered", "true"]) == 0
    source, output, values = no_execution[0]
    assert values == {"n_permutations": 10, "centered": True}
    assert Path(output).name == f"{CHAPTER}.ipynb"


def test_parameters_cell_is_read():
    parameters = {p.name: p for p in book.chapter_parameters(book.chapter_source(CHAPTER))}
    assert parameters["method"].default == "spearman"
    assert parameters["seed"].annotation == "int"
    assert "permutation" in parameters["n_permutations"].help


def test_console_script_exits_nonzero():
    result = subprocess.run(
        [sys.executable, "-m", "vatnb.cli", "run", CHAPTER, "-p", "seed", "x"],
        capture_output=True, text=True,
    )
    assert result.returncode == 2
    assert result.stderr.strip().startswith("vatnb: error: parameter 'seed'")


def test_failing_chapter_names_chapter_and_cell(tmp_path):
    source = tmp_path / "99_broken.py"
    source.write_text(
        '# %% tags=["parameters"]\nx: int = 1  # a knob\n\n# %%\ny = 2\n\n# %%\nraise ValueError("boom")\n'
    )
    with pytest.raises(book.ChapterFailed) as failure:
        book.execute_chapter(source, tmp_path / "out.ipynb", {"x": 3}, root=tmp_path,
                             progress=False)
    assert failure.value.chapter == "99_broken"
    assert "ValueError: boom" in str(failure.value)
    assert failure.value.cell is not None


def test_variable_name_parameter_accepted(no_execution):
    source = "04_prompt_steering"
    assert cli.main(["run", source, "-p", "api_key_variable", "MY_KEY"]) == 0
    assert no_execution[0][2] == {"api_key_variable": "MY_KEY"}


def test_key_in_key_parameter_rejected(no_execution, capsys):
    assert cli.main(["run", "04_prompt_steering", "-p", "api_key_variable", "abc123"]) != 0
    assert "environment variable" in capsys.readouterr().err
    assert no_execution == []


def test_figures_kept_under_agg_backend(tmp_path, monkeypatch):
    import nbformat

    monkeypatch.setenv("MPLBACKEND", "Agg")
    source = tmp_path / "98_plot.py"
    source.write_text(
        '# %% [markdown]\n# # Plot\n\n# %% tags=["parameters"]\nx: int = 1  # a knob\n\n# %%\n'
        "import matplotlib.pyplot as plt\nplt.plot([0, 1], [0, x])\nplt.show()\n"
    )
    output = book.execute_chapter(source, tmp_path / "out.ipynb", root=tmp_path, progress=False)
    outputs = [o for cell in nbformat.read(output, 4).cells for o in cell.get("outputs", [])]
    assert any("image/png" in o.get("data", {}) for o in outputs)
    assert __import__("os").environ["MPLBACKEND"] == "Agg"


@pytest.mark.parametrize(
    "name, value",
    [
        ("pre", "SK-TEST1234abcd"),
        ("judge_models", "judge-a,sk-test-SECRET123"),
        ("base_url", "http://127.0.0.1:8000/v1?api_key=abc123"),
        ("base_url", "http://user:hunter2@127.0.0.1:8000/v1"),
    ],
)
def test_hidden_keys_rejected(name, value):
    from vatnb.credentials import looks_like_secret

    assert looks_like_secret(name, value)


def test_plain_values_not_secret():
    from vatnb.credentials import looks_like_secret

    assert not looks_like_secret("base_url", "http://127.0.0.1:8000/v1")
    assert not looks_like_secret("api_key_variable", "OPENAI_API_KEY")
    assert not looks_like_secret("targets", "Power:suppress,Security:reinforce")
    assert not looks_like_secret("model", "gpt-4o-mini")


def test_redact_keys_in_messages():
    from vatnb.credentials import redact

    message = "AuthenticationError: Incorrect API key provided: Bearer sk-test-SECRET123"
    assert "SECRET123" not in redact(message)
    assert redact(message).endswith("Bearer <redacted>")
