"""pytest-benchmark view of the cases: each fast path and its alternative in one group.

Run on demand (the default ``pytest`` run collects only ``tests/``)::

    .venv/bin/python -m pytest benchmarks/test_benchmarks.py --benchmark-group-by=group

The ratio table with the bars is written by ``benchmarks/report.py``. The
per-draw resampling alternatives run ``BASELINE_DRAWS`` draws here, not 200.
"""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent))

from cases import kendall_case, resampling_case, scoring_cases  # noqa: E402

CASES = {
    "kendall-56": lambda: kendall_case(56),
    "resampling-spearman-56": lambda: resampling_case(56, "spearman"),
    "resampling-kendall-56": lambda: resampling_case(56, "kendall"),
    "scoring": lambda: scoring_cases()[0],
}


@pytest.mark.parametrize("side", ["fast", "baseline"])
@pytest.mark.parametrize("name", list(CASES))
def test_case(benchmark, name, side):
    case = CASES[name]()
    benchmark.group = case.name
    benchmark.extra_info["note"] = case.note
    benchmark.pedantic(getattr(case, side), rounds=1, iterations=1)
