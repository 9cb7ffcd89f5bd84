"""The paper's own human-evaluation numbers, transcribed for comparison.

Source: Chen and Shen, "Value Alignment Tax: Measuring Value Trade-offs in LLM
Alignment", Table 1 (section 4: mean, standard deviation and agreement of 8
dimensions rated on 5-point scales) and Table 8 (appendix B.4: agreement of at
least two annotators and majority ratio; three annotators per instance). The
paper reports 54 sampled instances and 27 annotators recruited on Prolific.

Table 8 names four action dimensions without the word "Action"
("Harmlessness", "Sufficiency", "Plausibility"); they are aligned here with
Table 1's "Action plausibility" and "Action sufficiency" by name. The paper
does not say whether its standard deviation is taken over single ratings or
over item means.
"""

from __future__ import annotations

import pandas as pd

SOURCE = "paper (Chen and Shen, Value Alignment Tax)"
N_ITEMS = 54
N_ANNOTATORS_PER_ITEM = 3
N_ANNOTATORS_RECRUITED = 27

# Dimension, mean, standard deviation, agreement (Table 1).
_TABLE_1 = (
    ("Scenario realism", 3.77, 0.64, 1.00),
    ("Cultural grounding", 3.24, 0.68, 0.67),
    ("Affordance richness", 3.60, 0.47, 0.89),
    ("Normative neutrality", 2.97, 0.60, 0.67),
    ("Action correctness", 4.20, 0.25, 0.89),
    ("Action plausibility", 3.87, 0.42, 0.89),
    ("Action sufficiency", 3.89, 0.30, 0.89),
    ("Harmlessness", 4.30, 0.48, 0.89),
)

# Dimension (Table 1 spelling), agreement >= 2, majority ratio (Table 8).
_TABLE_8 = (
    ("Scenario realism", 1.00, 0.87),
    ("Cultural grounding", 0.67, 0.65),
    ("Affordance richness", 0.89, 0.81),
    ("Normative neutrality", 0.67, 0.60),
    ("Action correctness", 0.89, 0.75),
    ("Harmlessness", 0.89, 0.81),
    ("Action sufficiency", 0.89, 0.75),
    ("Action plausibility", 0.89, 0.82),
)

DIMENSIONS = tuple(row[0] for row in _TABLE_1)


def table_1() -> pd.DataFrame:
    """Return the paper's Table 1 (mean, std, agreement per dimension), labelled as the paper's."""
    frame = pd.DataFrame(_TABLE_1, columns=["dimension", "mean", "std", "agreement"])
    frame = frame.set_index("dimension")
    frame.attrs["source"] = f"{SOURCE}, Table 1"
    return frame


def table_8() -> pd.DataFrame:
    """Return the paper's Table 8 (agreement >= 2, majority ratio), in Table 1's dimension order."""
    frame = pd.DataFrame(_TABLE_8, columns=["dimension", "agreement", "majority_ratio"])
    frame = frame.set_index("dimension").reindex(list(DIMENSIONS))
    frame.attrs["source"] = f"{SOURCE}, Table 8"
    return frame
