"""Time every benchmark case against its alternative and write the ratio table.

Usage (from the repository root)::

    .venv/bin/python benchmarks/report.py --output book/performance_table.md

Each side is timed ``--repeats`` times in this one process and the best time is
kept. The ratio is baseline time / fast time. For the resampling cases the
budget is the sum of the fast times of the four 200-draw cases, against 60 s.
Peak memory is measured with tracemalloc (numpy reports its buffers to it)
around one run of the largest case's fast path.
"""

from __future__ import annotations

import argparse
import gc
import os
import platform
import sys
import time
import tracemalloc
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from cases import all_cases  # noqa: E402

RESAMPLING_BUDGET_S = 60.0


def best_time(function, repeats: int) -> float:
    times = []
    for _ in range(repeats):
        gc.collect()
        start = time.perf_counter()
        function()
        times.append(time.perf_counter() - start)
    return min(times)


def peak_memory_mb(function) -> float:
    gc.collect()
    tracemalloc.start()
    function()
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    return peak / 2**20


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=2, help="timings per side; the best is kept")
    parser.add_argument("--output", type=Path, help="write the markdown table to this file too")
    parser.add_argument("--no-scoring", action="store_true",
                        help="skip the model-scoring case (needs torch and builds the tiny model)")
    arguments = parser.parse_args(argv)

    cases = all_cases(include_scoring=not arguments.no_scoring)
    lines = [
        "| case | fast (s) | alternative (s) | ratio | bar | passes | alternative |",
        "|---|---|---|---|---|---|---|",
    ]
    failures = 0
    resampling_total = 0.0
    for case in cases:
        fast = best_time(case.fast, arguments.repeats)
        baseline = best_time(case.baseline, 1 if case.baseline_scale > 1 else arguments.repeats)
        baseline *= case.baseline_scale
        ratio = baseline / fast
        passes = ratio >= case.bar
        failures += not passes
        if "scene draws" in case.name:
            resampling_total += fast
        lines.append(f"| {case.name} | {fast:.3f} | {baseline:.2f} | {ratio:.1f}x | "
                     f"{case.bar:g}x | {'yes' if passes else 'NO'} | {case.note} |")
        print(lines[-1], flush=True)
    within = resampling_total < RESAMPLING_BUDGET_S
    failures += not within
    largest = next(case for case in reversed(cases) if "scene draws" in case.name)
    peak = peak_memory_mb(largest.fast)
    footer = [
        "",
        f"Resampling budget: the four 200-draw cases took {resampling_total:.1f} s in total "
        f"(budget {RESAMPLING_BUDGET_S:.0f} s): {'within' if within else 'OVER'}.",
        f"Peak traced memory of the largest case ({largest.name}, fast path): {peak:.0f} MB.",
        f"Machine: {platform.machine()}, {os.cpu_count()} CPUs, Python {platform.python_version()}, "
        f"OPENBLAS_NUM_THREADS={os.environ.get('OPENBLAS_NUM_THREADS', 'unset')}, "
        f"load average {os.getloadavg()[0]:.1f} at the end.",
    ]
    text = "\n".join(lines + footer) + "\n"
    print("\n".join(footer))
    if arguments.output:
        arguments.output.write_text(text)
    return 1 if failures else 0


if __name__ == "__main__":
    raise SystemExit(main())
