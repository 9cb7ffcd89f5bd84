"""Backend ``simulated``: Likert judgments drawn from the known-answer simulator.

The backend draws every judgment of a fixed plan once, from one seeded
Generator, when it is built: the scenes and actions come from the items, and
each post condition gets the gain vector of its (target, direction, k). The
prompts are not read; ``judge`` looks each item up by (condition, scene,
micro-value, sign). The planted truth stays available as ``truth``.
"""

from __future__ import annotations

import hashlib
import json
import logging
from dataclasses import replace

import numpy as np
import pandas as pd

from vatnb.elicit.engine import make_judgment
from vatnb.simulator import (
    PlantedTruth,
    SimulatorSettings,
    gain_vector,
    planted_coupling,
    simulate_design,
)
from vatnb.taxonomy import VALUES

log = logging.getLogger(__name__)


class SimulatedBackend:
    """Judgments of a simulated model with a planted coupling.

    Parameters
    ----------
    items
        Every item the backend will be asked about (all conditions); scenes
        and the (micro-value, sign) design are read from it.
    plan
        Post condition name -> (target, direction, k). The condition ``"pre"``
        is always simulated.
    settings, seed
        Simulator knobs and seed.
    gain_overrides
        Target value -> g_max, replacing ``settings.g_max`` for that target
        (a negative value plants a backfire).
    """

    name = "simulated"
    batch_size = 100_000

    def __init__(self, items: pd.DataFrame, plan: dict, settings: SimulatorSettings | None = None,
                 seed: int = 0, gain_overrides: dict | None = None):
        self.settings_ = settings or SimulatorSettings()
        self.seed = int(seed)
        self.plan = {str(c): (t, d, int(k)) for c, (t, d, k) in plan.items()}
        self.gain_overrides = dict(gain_overrides or {})
        design = (
            items[["micro_value", "value", "sign"]]
            .drop_duplicates(["micro_value", "sign"])
            .assign(value_index=lambda t: [VALUES.index(v) for v in t["value"]])
            .sort_values(["value_index", "micro_value", "sign"], ascending=[True, True, False])
            .reset_index(drop=True)
        )
        scenes = sorted(pd.unique(items["scene_id"].astype(str)))
        gains = {}
        for condition, (target, direction, k) in self.plan.items():
            knobs = self.settings_
            if target in self.gain_overrides:
                knobs = replace(knobs, g_max=float(self.gain_overrides[target]))
            gains[condition] = gain_vector(target, direction, k, knobs)
        records = simulate_design(scenes, design, gains, self.settings_, np.random.default_rng(self.seed))
        self._ratings = dict(
            zip(
                zip(records["condition"].astype(str), records["scene_id"].astype(str),
                    records["micro_value"].astype(str), records["sign"].astype(int)),
                records["rating"].astype(int),
            )
        )
        self.truth = PlantedTruth(
            coupling=planted_coupling(self.settings_.rho),
            rho=self.settings_.rho,
            sigma_m=self.settings_.sigma_m,
            gain_vectors=gains,
            settings=self.settings_,
            target=None,
            direction="reinforce",
        )
        plan_text = json.dumps([self.plan, self.gain_overrides, self.seed], sort_keys=True)
        plan_hash = hashlib.sha256(plan_text.encode()).hexdigest()[:12]
        self.model = f"simulator-{self.settings_.key()}-{plan_hash}"

    def settings(self) -> dict:
        return {"simulator": self.settings_.key(), "seed": self.seed,
                "plan": {c: list(v) for c, v in self.plan.items()},
                "gain_overrides": self.gain_overrides}

    def judge(self, items: list[dict], points: int, on_judgment) -> None:
        if points != 5:
            raise ValueError(f"the simulator answers on 5 points (action endorsement), got {points}")
        for index, item in enumerate(items):
            key = (str(item["condition"]), str(item["scene_id"]), str(item["micro_value"]), int(item["sign"]))
            if key not in self._ratings:
                raise KeyError(
                    f"the simulated backend was not built for item {key}; pass every item "
                    "(all conditions) when building it"
                )
            on_judgment(index, make_judgment(rating=self._ratings[key]))
