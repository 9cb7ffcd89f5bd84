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
# # Human evaluation: agreement and what it can tell
#
# The paper checks its generated scenes and actions with human raters (Chen and Shen,
# section 4, Table 1, and appendix B.4, Table 8): 54 sampled instances, three annotators
# each, eight dimensions on 5-point scales. It reports each dimension's mean, standard
# deviation, the share of instances on which at least two annotators share a stance
# (agree 4-5, neutral 3, disagree 1-2) and the majority ratio. The annotations themselves
# are not public. This chapter does three things:
#
# 1. it checks what the published numbers allow and what chance alone would give;
# 2. it simulates a three-annotator study of the same size, so you can watch how the
#    paper's summaries and the chance-corrected ones (Fleiss' kappa, Krippendorff's alpha)
#    respond to rater noise;
# 3. it measures the agreement of two real annotators who judged 640 generated actions in
#    the predecessor study ValueActionLens (Shen, Clark and Mitra, 2025) on three binary
#    criteria: ACT (the action fits the value and polarity), ATTR (its feature attributions
#    capture the value) and EXP (its explanation is plausible).
#
# | you need | |
# |---|---|
# | concepts | Likert scales, inter-rater agreement, the bootstrap |
# | compute | CPU, under a minute |
# | data | none for steps 1-3; the two ValueActionLens annotator files for step 4 (`VATNB_DATA_DIR`, or set `download=True`) |
# | API key | none |

# %% tags=["parameters"]
seed: int = 0  # seed of the simulated study and of every bootstrap
n_items: int = 54  # simulated instances (paper, section 4: 54)
n_annotators: int = 3  # annotators per instance (paper, appendix B.4: 3)
rater_noise: float = 0.8  # standard deviation of one rating around the instance's quality, in scale points
annotator_bias_sd: float = 0.3  # spread of the annotators' leniency, in scale points
noise_levels: list[float] = [0.0, 0.4, 0.8, 1.2, 1.6, 2.4]  # rater noise values for the sweep in step 3
n_boot: int = 300  # bootstrap draws over items for the intervals
use_real_data: bool = True  # run step 4 on the real annotator files when they are available
download: bool = False  # allow downloading the annotator files when no local copy is found

# %%
import logging
import warnings

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
from IPython.display import Markdown, display

from vatnb import annotations, data, humaneval, paper_humaneval
from vatnb.metrics import UndefinedMetricWarning
from vatnb.provenance import provenance_table

logging.basicConfig(level=logging.WARNING)
pd.set_option("display.precision", 3)
if seed < 0:
    raise ValueError(f"seed must be a non-negative integer, got {seed}")
if n_items < 2:
    raise ValueError(f"n_items must be 2 or more (the bootstrap resamples items), got {n_items}")
if n_annotators < 2:
    raise ValueError(f"n_annotators must be 2 or more, since agreement needs two raters per item, got {n_annotators}")
if n_boot < 1:
    raise ValueError(f"n_boot must be 1 or more bootstrap draws (default 300), got {n_boot}")
if rater_noise < 0 or annotator_bias_sd < 0 or min(noise_levels, default=0.0) < 0:
    raise ValueError("rater_noise, annotator_bias_sd and noise_levels are standard deviations and must be "
                     f"non-negative, got {rater_noise}, {annotator_bias_sd} and {noise_levels}")
if not noise_levels:
    raise ValueError("noise_levels must list at least one rater noise value, such as [0.0, 0.8, 1.6]")
paper_source = "paper (Chen and Shen, Value Alignment Tax), Table 1 and Table 8"
simulation_source = (
    f"simulation (vatnb.humaneval.simulate_study, seed {seed}, {n_items} items, "
    f"{n_annotators} annotators, rater noise {rater_noise}, leniency spread {annotator_bias_sd})"
)

# %% [markdown]
# ## 1. The paper's numbers and what they allow
#
# Table 1 and Table 8 side by side. With three annotators and three stances, "at least
# two share a stance" fails only when all three stances differ. Two consequences follow,
# both computed below from the published numbers alone:
#
# - the majority ratio must lie between (1 + A)/3 and (1 + 2A)/3 for agreement A;
# - independent raters who pick stances *at random* already reach 7/9 = 0.78 when the
#   three stances are equally likely, and more otherwise. Agreement is a weak criterion
#   on its own: it needs a chance-corrected companion.

# %%
paper = paper_humaneval.table_1().join(
    paper_humaneval.table_8()[["majority_ratio"]].rename(columns={"majority_ratio": "majority ratio"})
)
bounds = paper["agreement"].apply(humaneval.majority_ratio_bounds)
paper["majority ratio allowed"] = [f"{low:.2f} to {high:.2f}" for low, high in bounds]
paper["consistent"] = [
    low - 0.01 <= ratio <= high + 0.01 for (low, high), ratio in zip(bounds, paper["majority ratio"])
]
display(paper)
display(Markdown(f"*Source: {paper_source}; the last two columns are computed here.*"))
uniform = humaneval.chance_agreement([1 / 3, 1 / 3, 1 / 3], 3)
skewed = humaneval.chance_agreement([0.6, 0.2, 0.2], 3)
display(Markdown(
    f"Random stances give agreement **{uniform:.2f}** when all stances are equally likely "
    f"(the lowest value any stance distribution gives) and **{skewed:.2f}** at 60% agree, "
    "20% neutral, 20% disagree. The paper reports 0.67 for cultural grounding and "
    "normative neutrality: below what three independent random raters reach, so on a third "
    "of those instances the three annotators split three ways, more often than chance "
    "predicts."
))

# %% [markdown]
# ## 2. A simulated study of the paper's size
#
# The simulator draws a latent quality per instance and dimension (mean and spread taken
# from the paper's Table 1), adds a leniency per annotator and noise per rating, and
# rounds to the 1-5 scale. Every summary then runs on the simulated table; intervals are
# percentile bootstraps over instances. The paper does not say whether its standard
# deviation is over single ratings or over instance means, so both are shown.

# %%
means = paper_humaneval.table_1()["mean"].to_dict()
spreads = paper_humaneval.table_1()["std"].to_dict()
study = humaneval.simulate_study(
    means, item_sd=spreads, n_items=n_items, n_annotators=n_annotators,
    rater_noise=rater_noise, annotator_bias_sd=annotator_bias_sd, seed=seed,
)
with warnings.catch_warnings():
    warnings.filterwarnings("ignore", message=".*reporting NaN", category=UndefinedMetricWarning)
    simulated = humaneval.summarize(study, n_boot=n_boot, seed=seed)
simulated = simulated.reindex(list(paper_humaneval.DIMENSIONS))


def interval(name):
    return [f"{low:.2f} to {high:.2f}" for low, high in
            zip(simulated[f"{name}_low"], simulated[f"{name}_high"])]


side_by_side = pd.DataFrame(
    {
        "mean (paper)": paper["mean"],
        "mean (sim)": simulated["mean"],
        "std (paper)": paper["std"],
        "std over items (sim)": simulated["std_items"],
        "std over ratings (sim)": simulated["std_ratings"],
        "agreement (paper)": paper["agreement"],
        "agreement (sim)": simulated["agreement"],
        "agreement 95% (sim)": interval("agreement"),
        "majority ratio (paper)": paper["majority ratio"],
        "majority ratio (sim)": simulated["majority_ratio"],
        "Fleiss' kappa (sim)": simulated["kappa"],
        "kappa 95% (sim)": interval("kappa"),
        "ordinal alpha (sim)": simulated["alpha"],
        "alpha 95% (sim)": interval("alpha"),
    }
)
display(side_by_side)
display(Markdown(f"*Source: columns marked (paper) are the {paper_source}; columns marked "
                 f"(sim) are {simulation_source}, with {n_boot} bootstrap draws over items.*"))

# %% [markdown]
# ## 3. How the summaries respond to rater noise
#
# One dimension (scenario realism: mean 3.77, instance spread 0.64) simulated at several
# rater noise levels with the same seed. Agreement and the majority ratio stay high even
# when the ratings carry little information about the instance, because two of three
# raters share one of only three stances by chance; kappa and alpha fall toward 0, which
# is what "no agreement beyond chance" looks like.

# %%
rows = []
with warnings.catch_warnings():
    warnings.filterwarnings("ignore", message=".*reporting NaN", category=UndefinedMetricWarning)
    for noise in noise_levels:
        table = humaneval.simulate_study(
            {"Scenario realism": means["Scenario realism"]},
            item_sd=spreads["Scenario realism"], n_items=n_items, n_annotators=n_annotators,
            rater_noise=float(noise), annotator_bias_sd=annotator_bias_sd, seed=seed,
        )
        row = humaneval.summarize(table).iloc[0]
        rows.append({"rater noise": float(noise), "agreement": row["agreement"],
                     "majority ratio": row["majority_ratio"], "Fleiss' kappa": row["kappa"],
                     "ordinal alpha": row["alpha"]})
sweep = pd.DataFrame(rows).set_index("rater noise")
display(sweep)
figure, axis = plt.subplots(figsize=(7.5, 3.4))
for column, style in zip(sweep.columns, ("o-", "s-", "^-", "d-")):
    axis.plot(sweep.index, sweep[column], style, label=column)
axis.axhline(uniform, color="0.5", linestyle=":", label="random stances, uniform (7/9)")
axis.axhline(0.0, color="0.3", linewidth=0.8)
axis.set_xlabel("rater noise (scale points)")
axis.set_ylabel("value")
axis.set_title("Scenario realism, simulated: summaries vs rater noise", fontsize=10)
axis.legend(fontsize=7, loc="center left", bbox_to_anchor=(1.02, 0.5))
figure.text(0.01, 0.005, f"Source: {simulation_source}, noise varied", fontsize=7, color="0.35")
figure.tight_layout(rect=(0, 0.04, 1, 1))
plt.show()

# %% [markdown]
# ## 4. Two real annotators: ACT, ATTR and EXP
#
# The ValueActionLens annotator files are spreadsheet exports with their leftovers (an
# instruction block above the header in one file, summary rows with `#DIV/0!` below the
# items in both); the loader keeps the 80 item rows of each and pairs them on (country,
# topic, value, polarity). Each item has 8 generated actions, so an "item" below is one
# action: 640 per criterion. A blank cell means the criterion was not judged; ATTR and
# EXP were judged for a few actions only, so their numbers rest on a handful of pairs.
# With two annotators, agreement is the plain share of equal judgments and kappa is
# Cohen's.

# %%
real_available = False
if use_real_data:
    try:
        pair = annotations.load_pair(download=download)
        real_available = True
    except data.DataUnavailableError as error:
        display(Markdown(
            "**Real data not available: step 4 is skipped.** Set `VATNB_DATA_DIR` to a folder "
            "with the ValueActionLens files (see `vatnb.data`), or run with `download=True`. "
            f"Details: {error}"
        ))
else:
    display(Markdown("**Step 4 is switched off (`use_real_data=False`).**"))

if real_available:
    real_source = "real data, ValueActionLens annotator files ({}, {}) at {}@{}".format(
        data.FILES["annotations/a"].local_path, data.FILES["annotations/b"].local_path,
        data.REPOSITORY, data.COMMIT[:12],
    )
    judgments = annotations.to_long(pair)
    display(annotations.judged_counts(judgments))
    display(Markdown(
        f"Rows outside the item block that the loader skipped: annotator a "
        f"{pair['a'].attrs['skipped_rows']}, annotator b {pair['b'].attrs['skipped_rows']}."
    ))
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message=".*reporting NaN", category=UndefinedMetricWarning)
        real = humaneval.summarize(judgments, scale="binary", n_boot=n_boot, seed=seed)
    real_table = pd.DataFrame(
        {
            "meaning": [annotations.JUDGMENT_MEANINGS[d] for d in real.index],
            "actions judged by both": real["items_paired"],
            "share judged correct": real["mean"],
            "agreement": real["agreement"],
            "agreement 95%": [f"{a:.2f} to {b:.2f}" for a, b in
                              zip(real["agreement_low"], real["agreement_high"])],
            "Cohen's kappa": real["kappa"],
            "kappa 95%": [f"{a:.2f} to {b:.2f}" for a, b in zip(real["kappa_low"], real["kappa_high"])],
            "Krippendorff's alpha": real["alpha"],
        }
    )
    display(real_table)
    display(Markdown(f"*Source: {real_source}; {n_boot} bootstrap draws over actions, seed {seed}.*"))

    act = judgments[judgments["dimension"] == "ACT"]
    per_prompt = []
    for prompt, part in act.groupby("prompt"):
        kappa_value, _ = humaneval.kappa(part, scale="binary")
        per_prompt.append({"generation prompt": prompt,
                           "share correct": part["rating"].mean(),
                           "agreement": humaneval.agreement(part, scale="binary"),
                           "Cohen's kappa": kappa_value})
    display(Markdown("ACT per generation prompt (80 actions each):"))
    display(pd.DataFrame(per_prompt).set_index("generation prompt"))
    display(Markdown(f"*Source: {real_source}.*"))

# %% [markdown]
# ## 5. Reading the numbers

# %%
lines = [
    f"- Simulated with rater noise {rater_noise}: agreement ranges "
    f"{simulated['agreement'].min():.2f} to {simulated['agreement'].max():.2f} across "
    f"dimensions, while Fleiss' kappa ranges {simulated['kappa'].min():.2f} to "
    f"{simulated['kappa'].max():.2f}. High agreement can sit beside a kappa near zero, "
    "so the paper's agreement values (0.67 to 1.00) do not, on their own, show raters "
    "agreeing beyond chance.",
    f"- In the sweep, agreement falls from {sweep['agreement'].iloc[0]:.2f} to "
    f"{sweep['agreement'].iloc[-1]:.2f} and ordinal alpha from "
    f"{sweep['ordinal alpha'].iloc[0]:.2f} to {sweep['ordinal alpha'].iloc[-1]:.2f}.",
]
if real_available:
    lines.append(
        f"- The two real annotators agree on ACT for {real.loc['ACT', 'agreement']:.0%} of "
        f"{real.loc['ACT', 'items_paired']} actions, Cohen's kappa "
        f"{real.loc['ACT', 'kappa']:.2f}. ATTR and EXP rest on "
        f"{real.loc['ATTR', 'items_paired']} and {real.loc['EXP', 'items_paired']} jointly "
        "judged actions, too few for a stable kappa: read their intervals, not the point values."
    )
display(Markdown("\n".join(lines)))

# %% [markdown]
# ## What this shows and what it does not
#
# - It shows how the paper's summaries are computed and how they behave: on three-way
#   stances with three raters, "at least two agree" is reached by chance most of the time,
#   so a chance-corrected coefficient belongs beside it.
# - It does not reproduce the paper's study. The simulated study only borrows the
#   published means and spreads; its agreement depends on the noise level you choose.
#   The paper's annotations are not public, so no number here checks them.
# - The real annotators judged the predecessor study's generated actions (binary
#   criteria, two raters), not the VAT scenes on 5-point scales. Their agreement speaks to
#   how reliably such actions can be judged, not to the quality of the VAT dataset.
# - Limits: the percentile bootstrap is rough for 54 items and for the dozen jointly
#   judged ATTR and EXP actions; with two raters, agreement and majority ratio carry the
#   same information (majority ratio = (1 + agreement) / 2).

# %% [markdown]
# ## Exercises
#
# Try each one before you open its solution ("Show code cell content"). The solutions ran
# when this page was built, and each checks its own answer.
#
# ### Exercise 1: agreement and majority ratio by hand
#
# Three annotators rate four instances on the 5-point scale: (5, 4, 4), (5, 3, 1),
# (4, 3, 3) and (2, 1, 5). Turn each rating into a stance (4-5 agree, 3 neutral, 1-2
# disagree), then compute the agreement (share of instances where at least two share a
# stance) and the majority ratio (mean of largest stance count / 3) by hand. Check both
# with `humaneval.agreement` and `humaneval.majority_ratio`, and check that the pair lies
# within `humaneval.majority_ratio_bounds`.

# %% tags=["hide-cell"]
# Solution to exercise 1.
hand_ratings = {"i1": (5, 4, 4), "i2": (5, 3, 1), "i3": (4, 3, 3), "i4": (2, 1, 5)}
hand_table = pd.DataFrame(
    [(item, annotator, "toy", rating)
     for item, ratings in hand_ratings.items()
     for annotator, rating in zip(("r1", "r2", "r3"), ratings)],
    columns=["item", "annotator", "dimension", "rating"],
)
# Stances: i1 agree x3; i2 one of each; i3 agree + neutral x2; i4 disagree x2 + agree.
agreement_by_hand = 3 / 4
majority_by_hand = (3 + 1 + 2 + 2) / (3 * 4)
display(humaneval.stance_counts(hand_table))
assert abs(humaneval.agreement(hand_table) - agreement_by_hand) < 1e-12, "agreement should be 3/4"
assert abs(humaneval.majority_ratio(hand_table) - majority_by_hand) < 1e-12, "majority ratio should be 2/3"
low, high = humaneval.majority_ratio_bounds(agreement_by_hand)
assert low <= majority_by_hand <= high, "the pair should lie within the bounds"
print(f"agreement = {agreement_by_hand:.3f}, majority ratio = {majority_by_hand:.3f}, "
      f"allowed range {low:.3f} to {high:.3f}")

# %% [markdown]
# ```{admonition} Explanation of exercise 1
# :class: dropdown
# Only instance 2 has all three stances different, so agreement is 3/4. The largest stance
# counts are 3, 1, 2 and 2, so the majority ratio is 8/12 = 0.667. The bounds for A = 0.75
# run from 0.583 (every agreeing instance a two-to-one split) to 0.833 (every agreeing
# instance unanimous); one unanimous and two split instances land in between.
# ```
#
# ### Exercise 2: the chance level of agreement
#
# Three independent raters draw stances with probabilities 60% agree, 20% neutral, 20%
# disagree. Agreement fails only when all three stances differ. Work out the chance
# agreement with a pencil, check it with `humaneval.chance_agreement`, and confirm it by
# drawing 20,000 simulated instances with a seeded generator.

# %% tags=["hide-cell"]
# Solution to exercise 2.
probabilities = [0.6, 0.2, 0.2]
# P(all distinct) = 3! * p_agree * p_neutral * p_disagree.
chance_by_hand = 1 - 6 * 0.6 * 0.2 * 0.2
generator = np.random.default_rng(seed)
draws = generator.choice(3, size=(20_000, 3), p=probabilities)
all_distinct = (np.sort(draws, axis=1) == [0, 1, 2]).all(axis=1)
chance_simulated = 1 - all_distinct.mean()
assert abs(humaneval.chance_agreement(probabilities, 3) - chance_by_hand) < 1e-12, "formula disagrees"
assert abs(chance_simulated - chance_by_hand) < 0.01, "the simulation is far from the formula"
print(f"by hand {chance_by_hand:.3f}, vatnb {humaneval.chance_agreement(probabilities, 3):.3f}, "
      f"simulated {chance_simulated:.3f}; uniform stances give {7 / 9:.3f}")

# %% [markdown]
# ```{admonition} Explanation of exercise 2
# :class: dropdown
# The three stances can be all different in 3! = 6 orders, each with probability
# 0.6 x 0.2 x 0.2 = 0.024, so chance agreement is 1 - 0.144 = 0.856. Skewing the stances
# away from uniform only raises it above 7/9, because the product of the three
# probabilities is largest when they are equal. Raters who mostly agree that an instance
# is good therefore reach high agreement with no shared judgment at all.
# ```
#
# ### Exercise 3: two raters, agreement and Cohen's kappa
#
# Two annotators judge ten actions (1 = correct): the first gives
# 1, 1, 1, 1, 1, 1, 1, 1, 0, 0 and the second 1, 1, 1, 1, 1, 1, 1, 0, 1, 0. Compute by
# hand the agreement, the majority ratio and Cohen's kappa (p_o - p_e) / (1 - p_e), and
# check them with `humaneval.agreement(..., scale="binary")`,
# `humaneval.majority_ratio(..., scale="binary")` and `humaneval.cohen_kappa`.

# %% tags=["hide-cell"]
# Solution to exercise 3.
first_rater = [1, 1, 1, 1, 1, 1, 1, 1, 0, 0]
second_rater = [1, 1, 1, 1, 1, 1, 1, 0, 1, 0]
binary_table = pd.DataFrame(
    [(item, annotator, "ACT", rating)
     for annotator, ratings in (("a", first_rater), ("b", second_rater))
     for item, rating in enumerate(ratings)],
    columns=["item", "annotator", "dimension", "rating"],
)
observed = 8 / 10
expected = 0.8 * 0.8 + 0.2 * 0.2
kappa_by_hand = (observed - expected) / (1 - expected)
assert abs(humaneval.agreement(binary_table, scale="binary") - observed) < 1e-12, "agreement should be 0.8"
assert abs(humaneval.majority_ratio(binary_table, scale="binary") - (1 + observed) / 2) < 1e-12, \
    "with two raters the majority ratio should be (1 + agreement) / 2"
assert abs(humaneval.cohen_kappa(first_rater, second_rater) - kappa_by_hand) < 1e-12, "kappa should be 0.375"
print(f"agreement = {observed:.2f}, majority ratio = {(1 + observed) / 2:.2f}, "
      f"p_e = {expected:.2f}, Cohen's kappa = {kappa_by_hand:.3f}")

# %% [markdown]
# ```{admonition} Explanation of exercise 3
# :class: dropdown
# The raters agree on 8 of 10 actions. Each judges 80% of the actions correct, so two raters
# guessing independently from those shares would agree on 0.8^2 + 0.2^2 = 68% of actions.
# Kappa scales the 12 points above that chance level by the 32 points available:
# 0.12 / 0.32 = 0.375. With two raters, an item's majority is 2/2 when they agree and 1/2
# when they differ, so the majority ratio adds nothing beyond agreement.
# ```

# %% tags=["hide-cell"]
display(provenance_table(
    {name: globals()[name] for name in
     ("seed", "n_items", "n_annotators", "rater_noise", "annotator_bias_sd", "noise_levels",
      "n_boot", "use_real_data", "download")},
    data_keys=("annotations/a", "annotations/b") if real_available else (),
    seeds={"simulation and bootstrap": seed},
))
