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


def test_redact_exact_secret_and_bearer_token():
    from vatnb.credentials import redact

    message = "key plain-secret-42 rejected; header was Bearer other.token-value, then plain-secret-42"
    redacted = redact(message, ["plain-secret-42"])
    assert "plain-secret-42" not in redacted
    assert "other.token-value" not in redacted
    assert redacted == "key <redacted> rejected; header was Bearer <redacted>, then <redacted>"
    assert redact("no key here", ["x"]) == "no key here"


def test_repeated_parameter_rejected(no_execution, capsys):
    status = cli.main(["run", CHAPTER, "-p", "seed", "1", "-p", "seed", "2"])
    error = capsys.readouterr().err.strip()
    assert status == 2
    assert no_execution == []
    assert len(error.splitlines()) == 1
    assert "parameter 'seed' is given twice ('1', then '2')" in error


@pytest.mark.parametrize("value", ["1,,2", "1,2,", ",1", "1, ,2"])
def test_empty_list_item_rejected(no_execution, capsys, value):
    status = cli.main(["run", "03_human_evaluation", "-p", "noise_levels", value])
    error = capsys.readouterr().err.strip()
    assert status == 2
    assert no_execution == []
    assert error.startswith(f"vatnb: error: parameter 'noise_levels' has an empty item in {value!r}")


def test_list_parameter_items_kept(no_execution):
    assert cli.main(["run", "03_human_evaluation", "-p", "noise_levels", "0, 0.5,1"]) == 0
    assert no_execution[0][2] == {"noise_levels": [0.0, 0.5, 1.0]}


def test_output_path_that_is_file_rejected(tmp_path, capsys):
    occupied = tmp_path / "taken"
    occupied.write_text("not a folder")
    status = cli.main(["run", CHAPTER, "-o", str(occupied)])
    error = capsys.readouterr().err.strip()
    assert status == 2
    assert len(error.splitlines()) == 1
    assert error.startswith(f"vatnb: error: output folder {occupied} exists but is a file")


def test_output_below_file_rejected(tmp_path, capsys):
    occupied = tmp_path / "taken"
    occupied.write_text("not a folder")
    status = cli.main(["run", CHAPTER, "-o", str(occupied / "runs")])
    error = capsys.readouterr().err.strip()
    assert status == 2
    assert len(error.splitlines()) == 1
    assert error.startswith(f"vatnb: error: cannot create output folder {occupied / 'runs'}")


def test_read_only_output_folder_rejected(tmp_path, monkeypatch, capsys):
    import os

    read_only = tmp_path / "read-only"
    read_only.mkdir()
    read_only.chmod(0o500)
    # A root user may write to any folder, so the permission check is faked for this one.
    real_access = os.access
    monkeypatch.setattr(
        os, "access", lambda path, mode, **kw: Path(path) != read_only and real_access(path, mode, **kw)
    )
    status = cli.main(["run", CHAPTER, "-o", str(read_only)])
    error = capsys.readouterr().err.strip()
    assert status == 2
    assert len(error.splitlines()) == 1
    assert error.startswith(f"vatnb: error: output folder {read_only} is not writable")


def test_permission_error_names_path(monkeypatch, capsys):
    def deny_write(*args, **kwargs):
        raise PermissionError(13, "Permission denied", "/runs/locked.ipynb")

    monkeypatch.setattr(book, "execute_chapter", deny_write)
    status = cli.main(["run", CHAPTER])
    error = capsys.readouterr().err.strip()
    assert status == 2
    assert len(error.splitlines()) == 1
    assert error.startswith("vatnb: error: cannot access /runs/locked.ipynb: Permission denied;")


def test_file_without_parameters_cell_rejected(capsys):
    module = Path(cli.__file__)
    status = cli.main(["run", str(module), "--list"])
    error = capsys.readouterr().err.strip()
    assert status == 2
    assert len(error.splitlines()) == 1
    assert error.startswith(f"vatnb: error: {module} has no cell tagged 'parameters'")


@pytest.mark.parametrize(
    "cell, expected",
    [
        ("x: int = (1\n", "the parameters cell of {source} is not valid Python"),
        ("x: int = len('ab')  # a knob\n", "parameter 'x' in {source} has the default \"len('ab')\""),
    ],
)
def test_bad_parameters_cell_rejected(tmp_path, capsys, cell, expected):
    source = tmp_path / "97_bad.py"
    source.write_text(f'# %% [markdown]\n# # Bad\n\n# %% tags=["parameters"]\n{cell}\n# %%\nprint(1)\n')
    for arguments in (["--list"], ["-p", "x", "2"]):
        status = cli.main(["run", str(source), *arguments])
        error = capsys.readouterr().err.strip()
        assert status == 2
        assert len(error.splitlines()) == 1
        assert error.startswith("vatnb: error: " + expected.format(source=source))


def test_run_shows_progress_on_terminal(monkeypatch):
    options = []
    monkeypatch.setattr(book, "execute_chapter", lambda *args, **kwargs: options.append(kwargs))
    for terminal in (True, False):
        monkeypatch.setattr(sys.stderr, "isatty", lambda: terminal)
        assert cli.main(["run", CHAPTER]) == 0
    assert [option["progress"] for option in options] == [True, False]


@pytest.mark.parametrize("kept, wording", [(True, "is incomplete"), (False, "was removed")])
def test_interrupted_chapter_reported(monkeypatch, capsys, kept, wording):
    output = Path("runs") / f"{CHAPTER}.ipynb"

    def interrupt(*args, **kwargs):
        raise book.ChapterInterrupted(CHAPTER, output, output_kept=kept)

    monkeypatch.setattr(book, "execute_chapter", interrupt)
    monkeypatch.setattr(book, "execute_chapters", interrupt)
    for command in (["run", CHAPTER], ["build"]):
        status = cli.main(command)
        error = capsys.readouterr().err.strip().splitlines()
        assert status == 130
        assert len(error) == 2
        assert error[0].startswith(f"vatnb: interrupted during chapter {CHAPTER};")
        assert error[0].endswith(f"partly executed notebook {output} {wording}.")
        assert "running the same command again resumes" in error[1]


def test_interrupt_outside_chapter_reported(monkeypatch, capsys):
    def interrupt(*args, **kwargs):
        raise KeyboardInterrupt

    monkeypatch.setattr(book, "chapter_source", interrupt)
    assert cli.main(["run", CHAPTER]) == 130
    assert capsys.readouterr().err.strip().startswith("vatnb: interrupted while no chapter")


def test_book_step_failure_one_line(monkeypatch, capsys):
    def failing_book(root=None):
        raise book.BookBuildError("jupyter-book build failed with exit code 1")

    monkeypatch.setattr(book, "execute_chapters", lambda **options: ({}, {}))
    monkeypatch.setattr(book, "run_jupyter_book", failing_book)
    assert cli.main(["build"]) == cli.EXIT_CHAPTERS_FAILED
    assert capsys.readouterr().err.strip() == "vatnb: error: jupyter-book build failed with exit code 1"
