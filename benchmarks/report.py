"""Time every benchmark case against its alternative and write the ratio table.

Usage (from the repository root)::

    .venv/bin/python benchmarks/report.py --output book/performance_table.md

Each side is timed ``--repeats`` times (``Case.repeats`` where a case sets
it) in this one process, the two sides in turns, and the best time is kept.
torch runs with ``--torch-threads`` threads (default 1, as the chapters run
it on a shared machine). The ratio is baseline time / fast time. For the resampling cases the
budget is the sum of the fast times of the four 200-draw cases, against 60 s.
Peak memory is measured with tracemalloc (numpy reports its buffers to it)
around one run of the largest case's fast path.
"""

from __future__ import annotations

import argparse
import datetime
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


def paired_times(case, repeats: int) -> tuple[float, float]:
    """Return the best fast and baseline times of a case, the baseline scaled by ``baseline_scale``.

    The two sides run in turns, so that both meet the same load when other
    processes share the machine. A scaled baseline (a loop timed on a few
    draws) runs once.
    """
    if case.baseline_scale > 1:
        return best_time(case.fast, repeats), best_time(case.baseline, 1) * case.baseline_scale
    fast, baseline = [], []
    for _ in range(repeats):
        fast.append(best_time(case.fast, 1))
        baseline.append(best_time(case.baseline, 1))
    return min(fast), min(baseline)


def peak_memory_mb(function) -> float:
    gc.collect()
    tracemalloc.start()
    function()
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    return peak / 2**20


def torch_threads() -> str:
    """Describe torch's intra-op thread count, which the scoring cases use."""
    try:
        import torch
    except ImportError:
        return "torch not installed"
    return f"torch threads {torch.get_num_threads()}"


def accelerator(device: str) -> str:
    """Return the name of the GPU the scoring cases ran on, or nothing on a CPU run."""
    if device != "cuda":
        return ""
    import torch

    return f"GPU {torch.cuda.get_device_name(0)}, torch {torch.__version__}, "


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=2, help="timings per side; the best is kept")
    parser.add_argument("--output", type=Path, help="write the markdown table to this file too")
    parser.add_argument("--torch-threads", type=int, default=1,
                        help="torch intra-op threads for the scoring cases; 0 keeps the torch default")
    parser.add_argument("--no-scoring", action="store_true",
                        help="skip the model-scoring cases (they need torch and build the tiny model)")
    parser.add_argument("--only-scoring", action="store_true",
                        help="run only the model-scoring cases (for a GPU run: add --device cuda)")
    parser.add_argument("--device", default="cpu", choices=("cpu", "cuda"),
                        help="where the tiny model of the scoring cases runs")
    arguments = parser.parse_args(argv)
    if arguments.no_scoring and arguments.only_scoring:
        parser.error("--no-scoring and --only-scoring exclude each other; give one of them")
    if arguments.device == "cuda":
        import torch

        if not torch.cuda.is_available():
            parser.error("--device cuda: torch sees no CUDA device here; run on a GPU machine "
                         "with a CUDA build of torch, or leave out --device")

    if arguments.torch_threads > 0 and not arguments.no_scoring:
        import torch

        torch.set_num_threads(arguments.torch_threads)
    started = datetime.datetime.now().astimezone()
    load_at_start = os.getloadavg()[0]
    cases = all_cases(include_scoring=not arguments.no_scoring,
                      only_scoring=arguments.only_scoring, device=arguments.device)
    lines = [
        "| case | fast (s) | alternative (s) | ratio | bar | passes | alternative |",
        "|---|---|---|---|---|---|---|",
    ]
    print("\n".join(lines), flush=True)
    failures = 0
    resampling_total = 0.0
    for case in cases:
        fast, baseline = paired_times(case, case.repeats or arguments.repeats)
        ratio = baseline / fast
        passes = ratio >= case.bar
        failures += not passes
        if "scene draws" in case.name:
            resampling_total += fast
        lines.append(f"| {case.name} | {fast:.3f} | {baseline:.2f} | {ratio:.1f}x | "
                     f"{case.bar:g}x | {'yes' if passes else 'NO'} | {case.note} |")
        print(lines[-1], flush=True)
    footer = [""]
    if not arguments.only_scoring:
        within = resampling_total < RESAMPLING_BUDGET_S
        failures += not within
        largest = next(case for case in reversed(cases) if "scene draws" in case.name)
        peak = peak_memory_mb(largest.fast)
        footer += [
            f"Resampling budget: the four 200-draw cases took {resampling_total:.1f} s in total "
            f"(budget {RESAMPLING_BUDGET_S:.0f} s): {'within' if within else 'OVER'}.",
            f"Peak traced memory of the largest case ({largest.name}, fast path): {peak:.0f} MB.",
        ]
    footer.append(
        f"Run {started:%Y-%m-%d %H:%M %Z}. Machine: {platform.machine()}, {os.cpu_count()} CPUs, "
        f"{accelerator(arguments.device)}Python {platform.python_version()}, "
        f"OPENBLAS_NUM_THREADS={os.environ.get('OPENBLAS_NUM_THREADS', 'unset')}, "
        f"{torch_threads()}, 1-minute load average {load_at_start:.1f} at the start and "
        f"{os.getloadavg()[0]:.1f} at the end."
    )
    text = "\n".join(lines + footer) + "\n"
    print("\n".join(footer))
    if arguments.output:
        arguments.output.write_text(text)
    return 1 if failures else 0


if __name__ == "__main__":
    raise SystemExit(main())
