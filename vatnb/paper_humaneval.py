"""The paper's own human-evaluation numbers, with Table 8 aligned to Table 1's names.

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

from vatnb import paper_tables

SOURCE = "paper (Chen and Shen, Value Alignment Tax)"
N_ITEMS = 54
N_ANNOTATORS_PER_ITEM = 3
N_ANNOTATORS_RECRUITED = 27

# Table 8 spelling -> Table 1 spelling of the same dimension.
_TABLE_8_NAMES = {"Sufficiency": "Action sufficiency", "Plausibility": "Action plausibility"}

DIMENSIONS = tuple(paper_tables.table1()["dimension"])


def table_1() -> pd.DataFrame:
    """Return the paper's Table 1 (mean, std, agreement per dimension), labelled as the paper's."""
    frame = paper_tables.table1().set_index("dimension")[["mean", "std", "agreement"]]
    frame.attrs = {"source": f"{SOURCE}, Table 1"}
    return frame


def table_8() -> pd.DataFrame:
    """Return the paper's Table 8 (agreement >= 2, majority ratio), in Table 1's dimension order."""
    frame = paper_tables.table8().replace({"dimension": _TABLE_8_NAMES})
    frame = frame.rename(columns={"agreement_at_least_2": "agreement"})
    frame = frame.set_index("dimension")[["agreement", "majority_ratio"]].reindex(list(DIMENSIONS))
    frame.attrs = {"source": f"{SOURCE}, Table 8"}
    return frame
