# ---
# jupyter:
#   jupytext:
#     text_representation:
#       extension: .py
#       format_name: percent
#   kernelspec:
#     display_name: Python 3
#     language: python
#     name: python3
# ---

# %% [markdown]
# # Case studies: amplification on coordination hubs
#
# The paper's last empirical question (Chen and Shen, section 6.4, Figure 5 and
# appendix H) is whether the values that carry the most coupling, the *coordination
# hubs*, are also where single answers become more extreme after alignment. It measures
# the *amplification* of an answer as |phi(post)| - |phi(pre)| (phi maps the Likert rating
# onto [-1, 1] with the midpoint at 0), calls a value a hub when it ranks in the top K of
# VAT(u) in at least a share f of the conditions, reports that hubs amplify more than
# non-hubs, and shows pre/post examples picked by a stated rule (low deviation before,
# high amplification after, on hub values).
#
# This chapter runs that analysis three times: on a simulation where hubs are planted (so
# the effect must appear), on the project's known-answer simulator where coupling is
# spread evenly around the circumplex (so it should not), and on real model answers,
# where the "post" state is a different model rather than an alignment step.
#
# | you need | |
# |---|---|
# | concepts | Likert scales, VAT(u) (chapter 1) |
# | compute | CPU, 5-20 seconds |
# | data | none for steps 1-4; the ValueActionLens ratings for step 5 (`VATNB_DATA_DIR`, or set `download=True`) |
# | API key | none |

# %% tags=["parameters"]
objectives: list[str] = ["Hedonism", "Power", "Security", "Stimulation"]  # steered values, one simulated condition each (paper, Figure 5)
direction: str = "reinforce"  # steering direction of every objective: "reinforce" or "suppress"
planted_hubs: list[str] = ["Security", "Conformity", "Tradition"]  # values sharing a factor in the planted-hub simulation
hub_loading: float = 0.8  # strength of that shared factor, in latent units
n_scenes: int = 300  # scenes per simulated condition
top_k: int = 3  # K: a value must be in the top K of VAT(u) ...
hub_share: float = 0.5  # f: ... in at least this share of conditions to be a hub
max_pre_deviation: float = 0.5  # case rule: |phi(pre)| at most this (near the scale midpoint)
min_amplification: float = 0.5  # case rule: amplification at least this
n_cases: int = 3  # cases shown per data source
seed: int = 0  # seed of both simulations
use_real_data: bool = True  # run step 5 on the real ratings when they are available
download: bool = False  # allow downloading the rating files when no local copy is found
real_pre: str = "gpt-3.5-turbo@0"  # real "pre" state: MODEL@K (one prompt variant)
real_posts: list[str] = ["gpt-4o-mini@0", "gpt-4o@0", "Llama-3.3-70B-Instruct@0"]  # real "post" states, one comparison each

# %%
import logging
import warnings

import matplotlib.pyplot as plt
import pandas as pd
from IPython.display import HTML, Markdown, display
from myst_nb import glue

from vatnb import casestudies, data, metrics, ratings, simulator
from vatnb.plots_cases import amplification_distribution, case_cards_html, value_amplification_bars
from vatnb.provenance import provenance_table

logging.basicConfig(level=logging.WARNING)
pd.set_option("display.precision", 3)
warnings.filterwarnings("ignore", message="constant shift trajectory", category=metrics.UndefinedMetricWarning)
if seed < 0:
    raise ValueError(f"seed must be a non-negative integer, got {seed}")
if not 1 <= top_k < len(simulator.VALUES):
    raise ValueError(f"top_k must be at least 1 and below the number of values ({len(simulator.VALUES)}), "
                     f"otherwise every value is a hub; got {top_k}")
if not 0 < hub_share <= 1:
    raise ValueError(f"hub_share must lie in (0, 1], got {hub_share}")
if direction not in ("reinforce", "suppress"):
    raise ValueError(f"direction must be 'reinforce' or 'suppress', got {direction!r}")
if not objectives:
    raise ValueError("objectives must name at least one Schwartz value, such as ['Power']")
if n_scenes < 2 or n_cases < 1:
    raise ValueError(f"n_scenes must be 2 or more and n_cases 1 or more, got {n_scenes} and {n_cases}")
parsed_conditions = {}
for name, condition in [("real_pre", real_pre), *(("each real_posts entry", post) for post in real_posts)]:
    model, _, variant = str(condition).partition("@")
    if model not in data.RATING_MODELS or not variant.isdigit():
        raise ValueError(f"{name} must be MODEL@K with MODEL one of {', '.join(data.RATING_MODELS)} "
                         f"and K a prompt variant number such as 0, got {condition!r}")
    try:
        parsed_conditions[condition] = ratings.parse_condition(condition)
    except ValueError as error:
        raise ValueError(f"{name} is not a valid condition: {error}") from None
if not real_posts:
    raise ValueError("real_posts must name at least one MODEL@K, such as ['gpt-4o@0']")
for post in real_posts:
    if parsed_conditions[post] == parsed_conditions[real_pre]:
        raise ValueError(f"real_posts entry {post!r} is the same condition as real_pre {real_pre!r}; "
                         "every shift would be 0")
planted_source = (f"simulation with planted hubs (vatnb.casestudies.simulate_hub_records, "
                  f"seed {seed}, {n_scenes} scenes per objective, hubs {', '.join(planted_hubs)})")
uniform_source = (f"simulation, known-answer simulator (vatnb.simulator.simulate, default "
                  f"settings, seed {seed}, {n_scenes} scenes per objective, 8 shots)")


def analyse(records_by_condition, pre, post):
    """Return VAT(u) per condition and the amplification pairs per condition."""
    vat, pairs = {}, {}
    for condition, records in records_by_condition.items():
        shifts = metrics.paired_shifts(metrics.value_scores(records), pre, post)
        vat[condition] = metrics.vat_summary(shifts).vat
        pairs[condition] = casestudies.record_amplification(records, pre, post)
    return pd.DataFrame(vat).T, pairs


# %% [markdown]
# ## 1. A simulation with planted hubs
#
# Each objective is steered in its own simulated run (pre and post on the same scenes).
# After steering, the planted hub values share one random factor per scene: their shifts
# move together (raising their VAT) and spread wider (raising their amplification).
# Hubs are then found from the VAT rankings alone, without knowing what was planted.

# %%
planted_records = {
    objective: casestudies.simulate_hub_records(
        n_scenes, target=objective, direction=direction, hubs=tuple(planted_hubs),
        hub_loading=hub_loading, seed=seed + index,
    )
    for index, objective in enumerate(objectives)
}
planted_vat, planted_pairs = analyse(planted_records, "pre", "post")
planted_hub_table = casestudies.coordination_hubs(planted_vat, k=top_k, share=hub_share)
found_hubs = planted_hub_table.index[planted_hub_table["hub"]].tolist()
display(planted_vat)
display(planted_hub_table)
display(Markdown(f"Hubs found: **{', '.join(found_hubs) or 'none'}** (planted: "
                 f"{', '.join(planted_hubs)}). *Source: {planted_source}.*"))

# %% [markdown]
# ## 2. Do hubs amplify more?
#
# The unit of the distribution is one (scene, value): the mean amplification of that
# value's actions in that scene. Positive means the post answers sit further from the
# midpoint than the pre answers.

# %%
figure = amplification_distribution(
    planted_pairs, found_hubs,
    f"Amplification, hubs vs non-hubs ({direction}, planted hubs)", planted_source,
)
plt.show()
planted_comparison = casestudies.hub_comparison(planted_pairs, found_hubs)
display(planted_comparison)
first = objectives[0]
display(casestudies.value_amplification(planted_pairs[first]))
figure = value_amplification_bars(
    casestudies.value_amplification(planted_pairs[first]), found_hubs,
    f"Mean amplification per value, objective {first}", planted_source,
)
plt.show()
display(Markdown(f"*Source: {planted_source}.*"))

# %% [markdown]
# ## 3. The same analysis where no hubs are planted
#
# The known-answer simulator couples values by their distance on the circumplex, the
# same way for every value. Whatever tops the VAT ranking here does so by chance, and
# hubs found this way should not amplify more than the rest.

# %%
uniform_records = {
    objective: simulator.simulate(n_scenes, target=objective, direction=direction,
                                  shots=(8,), seed=seed + index).records
    for index, objective in enumerate(objectives)
}
uniform_vat, uniform_pairs = analyse(uniform_records, "pre", "k=8")
uniform_hub_table = casestudies.coordination_hubs(uniform_vat, k=top_k, share=hub_share)
uniform_hubs = uniform_hub_table.index[uniform_hub_table["hub"]].tolist()
display(uniform_hub_table)
uniform_comparison = casestudies.hub_comparison(uniform_pairs, uniform_hubs)
display(uniform_comparison)
figure = amplification_distribution(
    uniform_pairs, uniform_hubs, f"Amplification, hubs vs non-hubs ({direction}, no planted hubs)",
    uniform_source,
)
plt.show()
display(Markdown(f"*Source: {uniform_source}.*"))

# %% [markdown]
# ## 4. Cases picked by the selection rule
#
# The rule of appendix H.1, made exact: a pair qualifies when its pre answer lies near
# the midpoint (|phi(pre)| <= `max_pre_deviation`), its amplification is at least
# `min_amplification`, and its value is a hub; the largest amplifications come first, one
# per value. No case is chosen for what it says. In the simulation an "answer" is a rating
# of one action in one scene.

# %%
with warnings.catch_warnings():
    warnings.simplefilter("always", UserWarning)
    simulated_cases = casestudies.select_cases(
        planted_pairs[first], hubs=found_hubs, max_pre_deviation=max_pre_deviation,
        min_amplification=min_amplification, n=n_cases,
    )
simulated_cases = simulated_cases.assign(
    action=lambda frame: frame["sign"].map({1: "expresses", -1: "suppresses"})
    + " " + frame["micro_value"],
)
display(HTML(case_cards_html(simulated_cases, context_columns=("scene_id", "action"),
                             pre_label="before steering", post_label=f"after steering {first}")))
display(Markdown(f"*Source: {planted_source}, objective {first}.*"))

# %% [markdown]
# ## 5. Real answers that moved most between two models
#
# The ValueActionLens files hold four models' answers to the same value survey (56
# micro-values on a 4-point descending scale, 132 contexts, 8 prompt variants). There is
# no alignment step between them, so "pre" and "post" are two models under the same
# prompt variant. The hubs come from VAT(u) across the comparisons of `real_pre` with each
# of `real_posts`. On this scale |phi| is 1/3 or 1, so a single answer's amplification is
# -2/3, 0 or +2/3.

# %%
real_available = False
if use_real_data:
    from vatnb import ratings

    try:
        for condition in [real_pre, *real_posts]:
            data.fetch(f"ratings/{ratings.parse_condition(condition)[0]}", download=download)
        real_available = True
    except data.DataUnavailableError as error:
        display(Markdown(
            "**Real data not available: step 5 is skipped.** Set `VATNB_DATA_DIR` to a folder "
            "with the ValueActionLens files (see `vatnb.data`), or run with `download=True`. "
            f"Details: {error}"
        ))
else:
    display(Markdown("**Step 5 is switched off (`use_real_data=False`).**"))

if real_available:
    models = sorted({ratings.parse_condition(c)[0] for c in [real_pre, *real_posts]})
    real_keys = [f"ratings/{model}" for model in models]
    real_source = "real data, ValueActionLens ratings ({}) at {}@{}".format(
        ", ".join(data.FILES[key].local_path for key in real_keys), data.REPOSITORY, data.COMMIT[:12]
    )
    real_records = {}
    for post_condition in real_posts:
        same_variant = ratings.parse_condition(real_pre)[1] == ratings.parse_condition(post_condition)[1]
        unit = "context_prompt" if same_variant else "context"
        real_records[f"{real_pre} -> {post_condition}"] = ratings.comparison_records(
            real_pre, post_condition, unit=unit)
    real_vat, real_pairs = analyse(real_records, "pre", "post")
    real_hub_table = casestudies.coordination_hubs(real_vat, k=top_k, share=hub_share)
    real_hubs = real_hub_table.index[real_hub_table["hub"]].tolist()
    display(real_hub_table)
    display(casestudies.hub_comparison(real_pairs, real_hubs))
    figure = amplification_distribution(
        real_pairs, real_hubs, "Amplification, hubs vs non-hubs (model comparisons)", real_source)
    plt.show()
    display(Markdown(f"*Source: {real_source}.*"))

# %% [markdown]
# The cards below show, for the first comparison, the pairs whose answer moved most
# (largest |phi(post) - phi(pre)|, one per value), and then the pairs the selection rule
# picks on hub values. Each side quotes the line of the model's raw answer that rates
# the micro-value.

# %%
if real_available:
    comparison_name, pairs = next(iter(real_pairs.items()))
    post_condition = real_posts[0]
    responses = {}
    for label, condition in (("pre", real_pre), ("post", post_condition)):
        model, _ = ratings.parse_condition(condition)
        responses[label] = ratings.read_answers(model).set_index(
            ["country", "topic", "prompt_index"])["response"]
        responses[label] = responses[label][~responses[label].index.duplicated()]

    def with_excerpts(cases):
        keys = list(zip(cases["country"], cases["topic"], cases["prompt_index"]))
        return cases.assign(
            text_pre=[casestudies.answer_excerpt(responses["pre"].get(k, ""), u)
                      for k, u in zip(keys, cases["micro_value"])],
            text_post=[casestudies.answer_excerpt(responses["post"].get(k, ""), u)
                       for k, u in zip(keys, cases["micro_value"])],
        )

    moved = with_excerpts(casestudies.largest_moves(pairs, n=n_cases))
    cards = dict(context_columns=("country", "topic", "prompt_index"),
                 pre_label=ratings.parse_condition(real_pre)[0],
                 post_label=ratings.parse_condition(post_condition)[0],
                 text_pre="text_pre", text_post="text_post")
    display(Markdown(f"**Largest moves, {comparison_name}** (rating 1 = strongly agree):"))
    display(HTML(case_cards_html(moved, **cards)))
    with warnings.catch_warnings():
        warnings.simplefilter("always", UserWarning)
        ruled = casestudies.select_cases(pairs, hubs=real_hubs, max_pre_deviation=max_pre_deviation,
                                         min_amplification=min_amplification, n=n_cases)
    display(Markdown(f"**Selection rule on hubs ({', '.join(real_hubs) or 'none'})**:"))
    display(HTML(case_cards_html(with_excerpts(ruled), **cards)))
    display(Markdown(f"*Source: {real_source}.*"))

# %% [markdown]
# ## 6. Reading the numbers

# %%
lines = [
    f"- Planted hubs: the VAT rankings find {', '.join(found_hubs) or 'no hub'}; hubs amplify "
    f"more than non-hubs in {int((planted_comparison['difference'] > 0).sum())} of "
    f"{len(planted_comparison)} objectives (mean difference "
    f"{planted_comparison['difference'].mean():+.3f}).",
    f"- No planted hubs: the 'hubs' are {', '.join(uniform_hubs) or 'none'}, and the mean "
    f"difference is {uniform_comparison['difference'].mean():+.3f}, positive in "
    f"{int((uniform_comparison['difference'] > 0).sum())} of {len(uniform_comparison)} "
    "objectives. A hub/non-hub gap therefore says something only when the hubs are stable "
    "across conditions (high `frequency` in the hub table).",
]
if real_available:
    real_comparison = casestudies.hub_comparison(real_pairs, real_hubs)
    lines.append(
        f"- Real model comparisons: hubs {', '.join(real_hubs) or 'none'}, mean difference "
        f"{real_comparison['difference'].mean():+.3f} across {len(real_comparison)} comparisons."
    )
display(Markdown("\n".join(lines)))
# Values that the book's claims page quotes from this run.
glue("planted_hubs", ", ".join(planted_hubs), display=False)
glue("found_hubs", ", ".join(found_hubs) or "none", display=False)
glue("planted_difference", float(planted_comparison["difference"].mean()), display=False)
glue("planted_positive", f"{int((planted_comparison['difference'] > 0).sum())} of {len(planted_comparison)}",
     display=False)
glue("uniform_difference", float(uniform_comparison["difference"].mean()), display=False)
if real_available:
    glue("real_hubs", ", ".join(real_hubs) or "none", display=False)
    glue("real_difference", float(real_comparison["difference"].mean()), display=False)
else:
    glue("real_hubs", "not computed (no real data)", display=False)
    glue("real_difference", float("nan"), display=False)

# %% [markdown]
# ## What this shows and what it does not
#
# - It shows the amplification measure, the hub rule and the case-selection rule as
#   code, and that the hub/non-hub comparison finds an effect where one is planted and
#   none where coupling is spread evenly.
# - The planted-hub simulation builds the link between coupling and amplification in
#   (one shared factor does both), so its result is a check of the pipeline, not evidence
#   for the paper's claim.
# - The real comparisons are model swaps, not alignment steps, and the 4-point scale
#   leaves only three amplification values per answer. They show what the measure does on
#   real answers, not the paper's GPT-4o 8-shot result.
# - Limits: (scene, value) units of one scene are not independent, so the Mann-Whitney
#   p-values are rough guides; hubs found from few conditions (four objectives by
#   default) change with the seed. More objectives or shot counts
#   make the hub rule more stable.

# %% [markdown]
# ## Exercises
#
# Try each one before you open its solution ("Show code cell content"). The solutions ran
# when this page was built, and each checks its own answer.
#
# ### Exercise 1: plant your own hubs and recover them
#
# Plant two hubs far apart on the circumplex, Hedonism and Universalism, in three steered
# runs (objectives Power, Security and Benevolence, 150 scenes each) with
# `casestudies.simulate_hub_records(..., hubs=("Hedonism", "Universalism"))`. Find the hubs
# from VAT(u) alone with K = 2 and f = 0.5 (`analyse` and `casestudies.coordination_hubs`).
# Do you recover exactly the planted pair?

# %% tags=["hide-cell"]
# Solution to exercise 1.
my_hubs = ("Hedonism", "Universalism")
# The exercise plants its hubs with a loading of its own, so that a rerun of the chapter
# with a weak or zero hub_loading still has hubs to recover here.
my_loading = 0.8
my_records = {
    objective: casestudies.simulate_hub_records(150, target=objective, direction=direction, hubs=my_hubs,
                                                hub_loading=my_loading, seed=seed + index)
    for index, objective in enumerate(("Power", "Security", "Benevolence"))
}
my_vat, _ = analyse(my_records, "pre", "post")
my_hub_table = casestudies.coordination_hubs(my_vat, k=2, share=0.5)
recovered = my_hub_table.index[my_hub_table["hub"]].tolist()
display(my_hub_table)
print(f"planted {sorted(my_hubs)}, recovered {sorted(recovered)}")
assert sorted(recovered) == sorted(my_hubs), "the hub rule should recover exactly the planted pair"

# %% [markdown]
# ```{admonition} Explanation of exercise 1
# :class: dropdown
# The shared factor makes the two planted values co-move in every scene, so each has one
# large |R| with the other and lands in the top two of VAT(u) in every run, whatever the
# steered objective. The circumplex plays no part in this teaching simulation, which is
# why two opposite values can form a hub. With a weaker `hub_loading` or fewer scenes the
# other values' noise starts to reach the top two and the recovery fails.
# ```
#
# ### Exercise 2: the hub rule by hand, with a tie
#
# Four conditions give these VAT(u) for four values (Power, Security, Hedonism,
# Tradition): A (0.5, 0.4, 0.1, 0.2), B (0.3, 0.3, 0.2, 0.1), C (0.1, 0.5, 0.4, 0.2) and
# D (0.2, 0.1, 0.2, 0.4). With K = 2, count how often each value is in the top K (ties at
# the cut are kept) and name the hubs for f = 0.5 and f = 0.75. Check with
# `casestudies.coordination_hubs`.

# %% tags=["hide-cell"]
# Solution to exercise 2.
toy_vat = pd.DataFrame(
    [[0.5, 0.4, 0.1, 0.2], [0.3, 0.3, 0.2, 0.1], [0.1, 0.5, 0.4, 0.2], [0.2, 0.1, 0.2, 0.4]],
    index=["A", "B", "C", "D"], columns=["Power", "Security", "Hedonism", "Tradition"],
)
# In D, Power and Hedonism tie for second place, so both are kept.
top_counts_by_hand = {"Power": 3, "Security": 3, "Hedonism": 2, "Tradition": 1}
half = casestudies.coordination_hubs(toy_vat, k=2, share=0.5)
three_quarters = casestudies.coordination_hubs(toy_vat, k=2, share=0.75)
display(half)
assert half["in_top_k"].to_dict() == top_counts_by_hand, "top-K counts differ from the hand count"
assert half.index[half["hub"]].tolist() == ["Power", "Security", "Hedonism"], "f = 0.5 hubs are wrong"
assert three_quarters.index[three_quarters["hub"]].tolist() == ["Power", "Security"], "f = 0.75 hubs are wrong"

# %% [markdown]
# ```{admonition} Explanation of exercise 2
# :class: dropdown
# The top two are Power and Security in A and B, Security and Hedonism in C, and in D
# Tradition plus the tied Power and Hedonism. Keeping ties gives D three values in its
# "top two". Power and Security are then in the top K in 3 of 4 conditions, Hedonism in 2
# and Tradition in 1. At f = 0.5 three values are hubs, and at f = 0.75 only two. The
# hub set depends on K, f and the tie rule, so state all three with any hub claim.
# ```
#
# ### Exercise 3: amplification by hand
#
# On the 5-point ascending scale phi maps 1..5 to -1, -0.5, 0, 0.5, 1. Compute the
# amplification |phi(post)| - |phi(pre)| of four answers that move 3 -> 5, 2 -> 4,
# 4 -> 3 and 1 -> 5, and say which ones the case rule of this chapter would pick
# (|phi(pre)| at most `max_pre_deviation`, amplification at least `min_amplification`).
# Check phi with `metrics.phi`.

# %% tags=["hide-cell"]
# Solution to exercise 3.
import numpy as np

pre_ratings, post_ratings = np.array([3, 2, 4, 1]), np.array([5, 4, 3, 5])
amplification = np.abs(metrics.phi(post_ratings, 5)) - np.abs(metrics.phi(pre_ratings, 5))
picked = (np.abs(metrics.phi(pre_ratings, 5)) <= max_pre_deviation) & (amplification >= min_amplification)
print(pd.DataFrame({"pre": pre_ratings, "post": post_ratings, "amplification": amplification,
                    "picked": picked}))
assert amplification.tolist() == [1.0, 0.0, -0.5, 0.0], "amplification differs from the hand values"
if (max_pre_deviation, min_amplification) == (0.5, 0.5):
    assert picked.tolist() == [True, False, False, False], "only 3 -> 5 should be picked"

# %% [markdown]
# ```{admonition} Explanation of exercise 3
# :class: dropdown
# Amplification measures distance from the midpoint, not direction: 2 -> 4 crosses the
# midpoint from disagree to agree and still scores 0, and 1 -> 5 flips from one extreme
# to the other and also scores 0. Only 3 -> 5, from neutral to an extreme, amplifies. A
# flip is a large shift but no amplification, so the two measures answer different
# questions. The case rule asks for a near-neutral answer before and a much more extreme
# one after, which only the first answer meets.
# ```

# %% tags=["hide-cell"]
display(provenance_table(
    {name: globals()[name] for name in
     ("objectives", "direction", "planted_hubs", "hub_loading", "n_scenes", "top_k", "hub_share",
      "max_pre_deviation", "min_amplification", "n_cases", "seed", "use_real_data", "download",
      "real_pre", "real_posts")},
    data_keys=real_keys if real_available else (),
    seeds={"simulations": seed},
))
