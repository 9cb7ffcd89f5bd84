"""The paper's training-trajectory numbers (Tables 3 and 13) in the column names of :mod:`vatnb.trajectory`.

The numbers are the paper's own (Chen and Shen, "Value Alignment Tax",
Table 3 in section 6.2 and Table 13 in appendix G.3), as transcribed in
:mod:`vatnb.paper_tables`. This module only renames columns, so that the
trajectory analysis runs on the printed rows exactly as on a run of this
project. Every frame carries ``attrs["source"]`` naming the table.
"""

from __future__ import annotations

import pandas as pd

from vatnb.paper_tables import table3, table13

# Figure 3 and Table 3 of the paper: Qwen3-4B-Instruct trained to suppress Power.
PAPER_TRAJECTORY_TARGET = ("Power", "suppress")


def paper_table3_checkpoints() -> pd.DataFrame:
    """Return the paper's Table 3 rows: method, checkpoint, step, Gain, nVAT, printed stage and Pareto mark.

    ``checkpoint`` is ``"paper-<method>-step<step>"``, so these rows never
    pass for checkpoints of this project.
    """
    printed = table3()
    frame = pd.DataFrame(
        {
            "method": printed["method"],
            "checkpoint": [f"paper-{m.lower()}-step{s}" for m, s in zip(printed["method"], printed["checkpoint"])],
            "step": printed["checkpoint"].astype(int),
            "Gain": printed["gain"].astype(float),
            "nVAT": printed["nvat"].astype(float),
            "printed stage": printed["stage"],
            "printed Pareto": printed["pareto"].astype(bool),
            "target": PAPER_TRAJECTORY_TARGET[0],
        }
    )
    frame.attrs["source"] = "paper, Table 3"
    return frame


def paper_table13_summary() -> pd.DataFrame:
    """Return the paper's Table 13 in the layout of :func:`vatnb.trajectory.cross_target_summary`."""
    printed = table13()
    frame = pd.DataFrame(
        {
            "Target": printed["target"],
            "Method": [f"{m} (N={n})" for m, n in zip(printed["method"], printed["n_checkpoints"])],
            "N": printed["n_checkpoints"].astype(int),
            "Mean Gain": printed["mean_gain"].astype(float),
            "Mean nVAT": printed["mean_nvat"].astype(float),
        }
    )
    frame.attrs["source"] = "paper, Table 13"
    return frame
