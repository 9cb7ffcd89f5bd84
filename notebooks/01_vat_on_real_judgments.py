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
# # VAT on real judgments
#
# The Value Alignment Tax (Chen and Shen, section 3) asks how a change to a model moves
# *all* of its values at once. This chapter computes every VAT quantity on real value
# judgments from real LLMs: the ValueActionLens value survey (Shen, Clark and Mitra, 2025),
# in which four models rated the 56 Schwartz micro-values in 132 contexts
# (12 countries x 11 topics) under 8 prompt variants. There is no alignment intervention
# in these files, so the "pre" and "post" states are either two models
# (gpt-3.5-turbo -> gpt-4o-mini: what changes when one model is swapped for another) or
# two framings of one model (prompt variant 0 -> 2: claim -> portrait wording). The method
# is the same as for an alignment run; only the meaning of the change differs.
#
# | you need | |
# |---|---|
# | concepts | Likert scales, rank correlation |
# | compute | CPU, 5-30 seconds (30 seconds to 2 minutes with `level="micro_value"`) |
# | data | the ValueActionLens ratings (downloaded and SHA-256 checked, or `VATNB_DATA_DIR`) |
# | API key | none |

# %% tags=["parameters"]
pre: str = "gpt-3.5-turbo"  # pre condition: MODEL or MODEL@K (prompt variant K only)
post: str = "gpt-4o-mini"  # post condition, same form as pre
sample_unit: str = "context_prompt"  # "context_prompt" (country x topic x variant) or "context"
level: str = "value"  # "value" for the 10 Schwartz values, "micro_value" for the 56
method: str = "spearman"  # coupling correlation: "spearman" (paper) or "kendall" (tau-b)
centered: bool = False  # remove each sample's mean shift before correlating
n_permutations: int = 200  # draws of the permutation null of nVAT
seed: int = 0  # seed of the permutation null

# %%
import logging

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
from IPython.display import Markdown, display
from myst_nb import glue

from vatnb import data, metrics, plots, ratings
from vatnb.provenance import provenance_table

logging.basicConfig(level=logging.WARNING)
pd.set_option("display.precision", 4)
# Check every parameter before any data is read.
pre_model, pre_variant = ratings.parse_condition(pre)
post_model, post_variant = ratings.parse_condition(post)
if seed < 0:
    raise ValueError(f"seed must be a non-negative integer, got {seed}")
if (pre_model, pre_variant) == (post_model, post_variant):
    raise ValueError(f"pre {pre!r} and post {post!r} name the same condition; every shift would be 0")
if sample_unit not in ratings.SAMPLE_UNITS:
    raise ValueError(f"sample_unit must be one of {list(ratings.SAMPLE_UNITS)}, got {sample_unit!r}")
if sample_unit == "context_prompt" and pre_variant != post_variant:
    raise ValueError(
        f"pre {pre!r} and post {post!r} use different prompt variants, so no sample pairs up "
        "under sample_unit 'context_prompt'; rerun with -p sample_unit context"
    )
if level not in ("value", "micro_value"):
    raise ValueError(f"level must be 'value' or 'micro_value', got {level!r}")
if method not in metrics.CORRELATION_METHODS:
    raise ValueError(f"method must be one of {metrics.CORRELATION_METHODS}, got {method!r}")
if n_permutations < 0:
    raise ValueError(f"n_permutations must be 0 (no permutation null) or more, got {n_permutations}")
data_keys = sorted({f"ratings/{pre_model}", f"ratings/{post_model}"})
source = "real data, ValueActionLens ratings ({}) at {}@{}".format(
    ", ".join(data.FILES[key].local_path for key in data_keys), data.REPOSITORY, data.COMMIT[:12]
)

# %% [markdown]
# ## 1. How many answers could be read
#
# Every answer is parsed without guessing: an answer is read *fully* when all 56
# micro-values got a rating, *partly* when some did, and not at all otherwise. The second
# table counts each reason something was not read, over all four models.

# %%
display(ratings.answer_summary())
display(ratings.unread_reasons())
display(Markdown(f"*Source: real data, all four ValueActionLens rating files at "
                 f"{data.REPOSITORY}@{data.COMMIT[:12]}.*"))

# %% [markdown]
# ## 2. From ratings to shifts
#
# A rating r on the 4-point descending scale becomes evidence phi(r) in
# {1, 1/3, -1/3, -1} (1 = strongly agree). A sample's value score E_s(v) averages the
# evidence of v's micro-values; the shift delta_s(v) is post minus pre, over the samples
# present in both conditions. Below: the mean shift per value, a summary that needs no
# target and no Gain (there is no intended direction for a model swap).

# %%
records = ratings.comparison_records(pre, post, unit=sample_unit)
scores = metrics.value_scores(records, level=level)
shifts = metrics.paired_shifts(scores, "pre", "post")
print(f"paired samples N = {len(shifts)}; unpaired samples dropped: {shifts.attrs['unpaired']}")
mean_shifts = metrics.mean_shift(shifts)
display(mean_shifts.to_frame("mean shift").T)
display(Markdown(f"*Source: {source}.*"))
figure = plots.mean_shift_bars(
    mean_shifts if level == "value" else mean_shifts.sort_values(),
    f"Mean shift per value, {pre} -> {post}",
    source,
)
plt.show()

# %% [markdown]
# ## 3. The coupling matrix
#
# R_uw is the rank correlation, across samples, of the shifts of u and w. A positive
# entry means the two values tend to move together from one sample to the next; a
# negative one, that one rises where the other falls. The diagonal is left blank because
# no tax uses it.

# %%
summary = metrics.vat_summary(
    shifts, method=method, centered=centered, n_permutations=n_permutations, seed=seed
)
figure = plots.coupling_heatmap(
    summary.coupling, f"Coupling R ({method}{', centred' if centered else ''}), {pre} -> {post}",
    source,
)
plt.show()

# %% [markdown]
# ## 4. Who carries the load: VAT(u) / nVAT
#
# VAT(u) is the length of u's row of R (diagonal excluded). Divided by nVAT, a value at 1
# carries an average share of the coupling; above 1, more than its share.

# %%
profile = summary.vat / summary.nvat
display(summary.vat.to_frame("VAT(u)").assign(**{"VAT(u)/nVAT": profile}).T)
figure = plots.vat_radar({f"{pre} -> {post}": profile}, "VAT(u) / nVAT", source)
plt.show()

# %% [markdown]
# ## 5. The system-level tax beside its null
#
# With N samples and no coupling at all, every off-diagonal rank correlation still has a
# spread of about 1/sqrt(N-1), so nVAT cannot be read without its floor
# sqrt((|V|-1)/(N-1)) and a permutation null (each value's shifts shuffled on their own).

# %%
table = summary.table()
display(table)
display(Markdown(f"*Source: {source}; permutation null with seed {seed}.*"))
print(
    f"N = {summary.n_samples}, nVAT = {summary.nvat:.4f}, Gini = {summary.gini:.4f}, "
    f"null floor = {summary.null_floor:.4f}, permutation p = {summary.p_value:.4f}"
)
if n_permutations > 0 and np.isfinite(summary.null_draws).any():
    figure = plots.null_histogram(
        summary.null_draws, summary.nvat, summary.null_floor,
        f"Permutation null of nVAT ({n_permutations} draws, seed {seed})", source,
    )
    plt.show()

# %% [markdown]
# ## 6. Reading the numbers

# %%
ratio = summary.nvat / summary.null_floor
top = summary.vat.sort_values(ascending=False).index[:3].tolist()
positive_share = float((metrics.off_diagonal(summary.coupling) > 0).mean())
if n_permutations == 0:
    verdict = ("no permutation null was drawn (n_permutations = 0), so read the ratio to the "
               "floor alone: well above 1 suggests coupling, near 1 suggests noise.")
else:
    verdict = (f"permutation p = {summary.p_value:.3f}: the shifts of different values are "
               f"{'clearly' if summary.p_value < 0.01 else 'not clearly'} coupled across samples.")
display(Markdown(
    f"- nVAT is **{summary.nvat:.3f}**, {ratio:.1f} times the pure-noise floor "
    f"{summary.null_floor:.3f}; {verdict}\n"
    f"- {positive_share:.0%} of the off-diagonal couplings are positive. When almost all "
    "are, much of the coupling is a common mode: the new condition agrees more (or less) "
    "with every value in the same samples. The validation chapter separates the two with "
    "a centred variant (`centered=True`).\n"
    f"- The load is {'even' if summary.gini < 0.1 else 'uneven'} across values "
    f"(Gini {summary.gini:.3f}); the largest VAT(u) belong to {', '.join(top)}."
))
# Values that the book's claims page quotes from this run.
glue("n_samples", int(summary.n_samples), display=False)
glue("nvat", float(summary.nvat), display=False)
glue("gini", float(summary.gini), display=False)
glue("null_floor", float(summary.null_floor), display=False)
glue("top_values", ", ".join(top), display=False)

# %% [markdown]
# ## What this shows and what it does not
#
# - It shows the VAT measurement on real model judgments: the parse counts, the shifts,
#   the coupling and both taxes, each beside the null that a reader needs to judge it.
# - A model swap or a framing change is not an alignment intervention: these numbers
#   describe how two real judgment states differ, not the tax of aligning one value.
# - The value survey rates each micro-value directly (sign +1 everywhere); the paper's own
#   protocol rates actions in scenes, which the prompt-steering chapter simulates and can
#   run on a real model.
# - Limits: 132 contexts x 8 variants give N of about 1,000, so the floor is near 0.1;
#   a framing change within one model pairs only 132 contexts (floor near 0.26). Use
#   `sample_unit="context"` for framing changes.

# %% [markdown]
# ## Exercises
#
# Try each one before you open its solution ("Show code cell content"). The solutions ran
# when this page was built, and each checks its own answer.
#
# ### Exercise 1: the floor by hand
#
# Compute the null floor sqrt((|V|-1)/(N-1)) yourself from the number of values and the
# number of paired samples of this run, and compare it with `summary.null_floor`. Then
# compare it with the mean of the permutation null (`summary.null_draws`): how close is
# the formula to the simulation of "no coupling"?

# %% tags=["hide-cell"]
# Solution to exercise 1.
import numpy as np

n_values = int(summary.vat.notna().sum())
if n_values < 2 or summary.n_samples < 2:
    floor_by_hand = float("nan")
    print(f"|V| = {n_values}, N = {summary.n_samples}: too few values with a defined VAT for a floor")
elif centered:
    # The centred coupling has its own floor, sqrt(1/(|V|-1) + (|V|-1)/(N-1)).
    floor_by_hand = np.sqrt(1 / (n_values - 1) + (n_values - 1) / (summary.n_samples - 1))
else:
    floor_by_hand = np.sqrt((n_values - 1) / (summary.n_samples - 1))
if np.isfinite(floor_by_hand):
    assert abs(floor_by_hand - summary.null_floor) < 1e-12, "the floor formula disagrees with vatnb"
    print(f"|V| = {n_values}, N = {summary.n_samples}: floor = {floor_by_hand:.4f}"
          + (" (centred)" if centered else ""))
if n_permutations > 0 and np.isfinite(floor_by_hand):
    null_mean = float(np.nanmean(summary.null_draws))
    print(f"mean of {n_permutations} permutation draws = {null_mean:.4f} "
          f"({null_mean / floor_by_hand:.1%} of the floor)")
    assert abs(null_mean / floor_by_hand - 1) < 0.25, "the permutation null is far from the floor"

# %% [markdown]
# ```{admonition} Explanation of exercise 1
# :class: dropdown
# With no coupling, each off-diagonal rank correlation is about normal with variance
# 1/(N-1). nVAT squares |V|(|V|-1) of them and divides by |V|, so its square is about
# (|V|-1)/(N-1). The permutation null keeps every value's own distribution of shifts and
# only breaks their pairing across samples, so its mean lands close to the formula. Ties
# in the Likert-derived shifts and the square root make it differ by a few percent.
# ```
#
# ### Exercise 2: nVAT is the root mean square of VAT(u)
#
# Using only `summary.vat`, recompute nVAT and the Gini centralization with the formulas
# of the glossary, and check them against `summary.nvat` and `summary.gini`.

# %% tags=["hide-cell"]
# Solution to exercise 2.
loads = summary.vat.dropna().to_numpy()
nvat_by_hand = np.sqrt(np.mean(loads**2))
gini_by_hand = np.abs(loads[:, None] - loads[None, :]).sum() / (2 * loads.size**2 * loads.mean())
assert abs(nvat_by_hand - summary.nvat) < 1e-12, "nVAT is not the RMS of VAT(u)"
assert abs(gini_by_hand - summary.gini) < 1e-12, "the Gini formula disagrees with vatnb"
print(f"nVAT = {nvat_by_hand:.4f}, Gini = {gini_by_hand:.4f}")

# %% [markdown]
# ```{admonition} Explanation of exercise 2
# :class: dropdown
# nVAT squared sums every off-diagonal R_uw^2 and divides by |V|; VAT(u) squared sums
# the same squares one row at a time. So nVAT^2 is the mean of VAT(u)^2. The Gini
# coefficient is half the mean absolute difference between two loads, divided by the
# mean load.
# ```
#
# ### Exercise 3: how many samples does a planted coupling need?
#
# Draw shifts with a planted circumplex coupling of strength 0.5
# (`vatnb.validation.latent_shifts(n, rho=0.5, seed=seed)`) for growing N, and find the
# smallest N in 5, 8, 10, 15, 20, 30, 50 at which nVAT clears its floor: a permutation
# p-value below 0.05 (50 permutations). Compare with the N of this chapter's real data.

# %% tags=["hide-cell"]
# Solution to exercise 3.
from vatnb.validation import latent_shifts

smallest_n = None
for n in (5, 8, 10, 15, 20, 30, 50):
    planted = latent_shifts(n, rho=0.5, seed=seed)
    planted_nvat = metrics.nvat(metrics.coupling_matrix(planted))
    p_value = metrics.permutation_pvalue(
        planted_nvat, metrics.permutation_null(planted, n_permutations=50, seed=seed)
    )
    print(f"N = {n:3d}: nVAT = {planted_nvat:.3f}, floor = {metrics.null_floor(10, n):.3f}, "
          f"p = {p_value:.3f}")
    if p_value < 0.05:
        smallest_n = n
        break
assert smallest_n is not None, "a coupling of strength 0.5 should clear its floor by N = 50"
print(f"smallest N that clears the floor: {smallest_n}; this chapter's N: {summary.n_samples}")

# %% [markdown]
# ```{admonition} Explanation of exercise 3
# :class: dropdown
# A planted coupling of 0.5 is strong: C = 0.5 I + 0.5 K gives neighbours on the
# circumplex a correlation of about 0.4 and opposites about -0.5, and with 45 pairs
# pulling the same way a handful of samples is enough. Weaker
# couplings, such as the paper's reported nVAT of 0.09-0.15, need far more samples before
# they separate from noise: the floor falls only as 1/sqrt(N). Try `rho=0.1`.
# ```

# %% tags=["hide-cell"]
display(provenance_table(
    {name: globals()[name] for name in
     ("pre", "post", "sample_unit", "level", "method", "centered", "n_permutations", "seed")},
    data_keys=data_keys,
    seeds={"permutation null": seed},
))
