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
# # Prompt steering
#
# The headline results of Chen and Shen (section 6.1, Table 2; appendix F, Table 10) come
# from few-shot prompt steering: a directional prefix of k in {2, 4, 8} examples that
# reinforce or suppress one value (appendix D) is put before each test (scene, action)
# prompt, the model answers on a 1-5 scale, and Gain, nVAT, Gini and the std of nVAT over
# 80% scene draws are reported per target value and k. This chapter builds such prefixes,
# elicits the judgments with a chosen backend, and lays the Table-2-shaped result beside
# the paper's numbers. On the default `simulated` backend the coupling is planted, so the
# chapter can also show how well VAT recovers a structure that is known.
#
# | you need | |
# |---|---|
# | concepts | Likert scales, rank correlation, the VAT definitions (chapter 1) |
# | compute | CPU, under a minute with the defaults; a GPU for `hf` with a real model |
# | data | the built-in templated scenes (placeholder text, no download) |
# | API key | only for `backend="openai"`, read from the environment variable named below |

# %% tags=["parameters"]
backend: str = "simulated"  # "simulated" (offline, planted truth), "hf", "openai" or "replay"
model: str = ""  # hf: folder or hub id; openai: model name; replay: records file
base_url: str = ""  # openai: API root such as http://127.0.0.1:8000/v1, empty means the client default
api_key_variable: str = "OPENAI_API_KEY"  # openai: NAME of the environment variable with the key
targets: str = "Security:reinforce,Power:suppress,Stimulation:suppress,Hedonism:suppress,Benevolence:reinforce,Universalism:reinforce"  # VALUE:DIRECTION pairs (paper, section 5 and Table 10)
shots: str = "2,4,8"  # shot counts k of the steering prefix (paper: 2, 4, 8)
protocol: str = "action-endorsement"  # "action-endorsement" (1-5) or "value-survey" (1-4, descending)
scenes_per_pair: int = 4  # templated scenes per (country, topic); 30% of scenes are test scenes
max_test_scenes: int = 0  # cap on test scenes, 0 means all
micro_values_per_value: int = 2  # test actions: this many micro-values per value, both polarities
seed: int = 0  # seed of the split, the example draws, the simulator and the resampling
n_resamples: int = 50  # 80% scene draws for the std of nVAT (paper: bootstrap, appendix E)
batch_size: int = 8  # hf: prompts per forward pass
rating_rule: str = "argmax"  # hf: "argmax", or "stochastic-rounding" of the expected rating for near-uniform models
concurrency: int = 4  # openai: parallel requests
requests_per_second: float = 5.0  # openai: most requests started per second
cache_dir: str = ""  # judgment cache folder, empty means $VATNB_CACHE_DIR or ~/.cache/vatnb
records_file: str = ""  # .csv or .parquet file to save the judgment records to, for the replay backend; empty: not saved
paper_model: str = "Qwen"  # model whose paper numbers stand beside ours: DeepSeek, GPT, Gemini, Qwen
sim_rho: float = 0.5  # simulated: planted circumplex coupling strength in [0, 1]
sim_sigma_m: float = 0.0  # simulated: common-mode shift shared by all values of a sample
sim_gain_overrides: str = "Power:0.15,Stimulation:-0.3"  # simulated: VALUE:g_max pairs, and a negative g_max backfires

# %%
import logging
import os
import warnings
from pathlib import Path

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
from IPython.display import Markdown, display
from myst_nb import glue

from vatnb import checkpoint_eval, elicit, metrics, paper_tables, plots, plots_steering, steering
from vatnb.dataset import builtin_offline_set
from vatnb.provenance import provenance_table
from vatnb.simulator import SimulatorSettings, recovery_correlation
from vatnb.splits import split_scenes
from vatnb.taxonomy import VALUES, micro_values_of

logging.basicConfig(level=logging.WARNING)
pd.set_option("display.precision", 3)
parameters = {name: globals()[name] for name in (
    "backend", "model", "base_url", "api_key_variable", "targets", "shots", "protocol",
    "scenes_per_pair", "max_test_scenes", "micro_values_per_value", "seed", "n_resamples",
    "batch_size", "rating_rule", "concurrency", "requests_per_second", "cache_dir", "records_file", "paper_model",
    "sim_rho", "sim_sigma_m", "sim_gain_overrides")}
elicit.reject_secret_parameters(parameters)
if seed < 0:
    raise ValueError(f"seed must be a non-negative integer, got {seed}")
gain_overrides = {}
for part in filter(None, sim_gain_overrides.split(",")):
    name, _, number = part.partition(":")
    try:
        g_max = float(number)
    except ValueError:
        raise ValueError(f"sim_gain_overrides must be VALUE:NUMBER pairs such as Power:0.15, got {part!r}") from None
    if not np.isfinite(g_max):
        raise ValueError(f"sim_gain_overrides must give finite numbers, got {part!r}")
    gain_overrides[steering.parse_targets(name)[0][0]] = g_max
if rating_rule not in ("argmax", "stochastic-rounding"):
    raise ValueError(f"rating_rule must be 'argmax' or 'stochastic-rounding', got {rating_rule!r}")
if rating_rule != "argmax" and backend != "hf":
    raise ValueError(f"rating_rule {rating_rule!r} needs the expected rating of the hf backend; "
                     f"use rating_rule='argmax' with backend {backend!r}")
if backend in ("hf", "openai", "replay") and not model.strip():
    raise ValueError(f"backend {backend!r} needs the model parameter: a folder or hub id (hf), "
                     "a model name (openai) or a records file (replay)")
if backend not in elicit.BACKENDS:
    raise ValueError(f"backend must be one of {elicit.BACKENDS}, got {backend!r}")
if records_file and Path(records_file).suffix.lower() not in (".csv", ".parquet"):
    raise ValueError(f"records_file must end in .csv or .parquet, the formats the replay backend reads, "
                     f"got {records_file!r}")
if protocol not in steering.PROTOCOLS:
    raise ValueError(f"protocol must be one of {steering.PROTOCOLS}, got {protocol!r}")
if backend == "simulated" and protocol != "action-endorsement":
    raise ValueError(f"protocol {protocol!r} needs a real model, because the simulator rates only the "
                     "5-point action-endorsement question; use backend hf, openai or replay, or "
                     "protocol 'action-endorsement'")
for name in ("targets", "shots"):
    if any(not item.strip() for item in globals()[name].split(",")):
        raise ValueError(f"{name} has an empty entry (two commas in a row, or one at an end), "
                         f"got {globals()[name]!r}")
target_pairs = steering.parse_targets(targets)
try:
    shot_counts = [int(k) for k in shots.split(",") if k.strip()]
except ValueError:
    raise ValueError(f"shots must be comma-separated whole numbers such as 2,4,8, got {shots!r}") from None
if not shot_counts or min(shot_counts) < 1:
    raise ValueError(f"shots must list at least one shot count of 1 or more, such as 2,4,8, got {shots!r}")
if micro_values_per_value < 1:
    raise ValueError(f"micro_values_per_value must be 1 or more, got {micro_values_per_value}")
if scenes_per_pair < 1:
    raise ValueError(f"scenes_per_pair must be 1 or more, got {scenes_per_pair}")
if max_test_scenes < 0:
    raise ValueError(f"max_test_scenes must be 0 (all) or a positive cap, got {max_test_scenes}")
if n_resamples < 1:
    raise ValueError(f"n_resamples must be 1 or more, got {n_resamples}")
if requests_per_second <= 0:
    raise ValueError(f"requests_per_second must be positive, got {requests_per_second}")
paper_models = ("DeepSeek", "GPT", "Gemini", "Qwen")
if paper_model not in paper_models:
    raise ValueError(f"paper_model must be one of {', '.join(paper_models)}, got {paper_model!r}")

# %% [markdown]
# ## 1. Scenes, split and test items
#
# The built-in templated set has the paper's Cartesian design (12 countries x 11 topics)
# with placeholder text. Scenes are split 70/30 by country and topic, so no scene gives
# both a steering example and a test item.

# %%
dataset = split_scenes(builtin_offline_set(scenes_per_pair=scenes_per_pair), seed=seed)
kept_micro = {u for v in VALUES for u in micro_values_of(v)[:micro_values_per_value]}
test_items = dataset[(dataset["split"] == "test") & dataset["micro_value"].isin(kept_micro)]
if max_test_scenes:
    chosen_scenes = sorted(test_items["scene_id"].unique())[:max_test_scenes]
    test_items = test_items[test_items["scene_id"].isin(chosen_scenes)]
display(pd.DataFrame({
    "scenes": [dataset["scene_id"].nunique()],
    "train scenes": [dataset.loc[dataset["split"] == "train", "scene_id"].nunique()],
    "test scenes": [test_items["scene_id"].nunique()],
    "test actions per scene": [len(test_items) // max(1, test_items["scene_id"].nunique())],
}))

# %% [markdown]
# ## 2. The steering prefix
#
# One prefix per (target, direction, k), template version shown below; the examples come
# from the training scenes with a fixed seed.

# %%
prefixes, plan = steering.steering_plan(dataset, target_pairs, shot_counts, seed=seed)
first = next(iter(prefixes))
display(Markdown(f"Template `{steering.TEMPLATE_VERSION}`, condition **{first}**:"))
print(prefixes[first])

# %% [markdown]
# ## 3. Eliciting the judgments
#
# Every judgment goes through one on-disk cache keyed by (backend, model, prompt,
# decoding settings): a rerun makes no calls and a killed run resumes.

# %%
cache_root = Path(cache_dir or os.environ.get("VATNB_CACHE_DIR") or Path.home() / ".cache" / "vatnb")
cache = elicit.JudgmentCache(cache_root / "judgments.sqlite")
conditions = {"pre": ""} | prefixes
if backend == "simulated":
    knobs = SimulatorSettings(rho=sim_rho, sigma_m=sim_sigma_m)
    judge = elicit.SimulatedBackend(test_items.assign(sign=test_items["polarity"].map({"express": 1, "suppress": -1})),
                                    plan, knobs, seed=seed, gain_overrides=gain_overrides)
    source = f"simulation (rho={sim_rho}, sigma_m={sim_sigma_m}, seed={seed}), templated scenes"
elif backend == "hf":
    judge = elicit.HFBackend(model, batch_size=batch_size)
    source = f"model {model} read by next-token probabilities, templated scenes"
elif backend == "openai":
    judge = elicit.OpenAIBackend(model, base_url=base_url or None, key_variable=api_key_variable,
                                 concurrency=concurrency, rate=requests_per_second)
    source = f"model {model} via an OpenAI-compatible API, templated scenes"
else:
    judge = elicit.ReplayBackend(model)
    source = f"replayed records from {model}"
frames = []
for condition, prefix in conditions.items():
    items = steering.evaluation_items(test_items, condition, prefix, protocol=protocol)
    frames.append(elicit.elicit(items, judge, cache, progress=False))
records = pd.concat(frames, ignore_index=True)
display(elicit.unreadable_counts(records))
if rating_rule != "argmax":
    # The argmax of a near-uniform model (such as an untrained one) hardly varies; the
    # stochastic rounding is unbiased for the expected rating (vatnb.checkpoint_eval).
    records = checkpoint_eval.apply_rating_rule(records, rating_rule, seed=seed)
    source += f", ratings by {rating_rule} of the expected rating"
if records_file:
    Path(records_file).parent.mkdir(parents=True, exist_ok=True)
    if Path(records_file).suffix.lower() == ".parquet":
        records.to_parquet(records_file, index=False)
    else:
        records.to_csv(records_file, index=False)
    display(Markdown(f"Saved {len(records)} judgment records to `{records_file}`. Replay them with "
                     f"`-p backend replay -p model {records_file}` and the same scene and target parameters."))

# %% [markdown]
# ## 4. The Table-2-shaped result beside the paper's
#
# Gain is in the intended direction (positive = the target moved as intended). The null
# floor sqrt((|V|-1)/(N-1)) is the nVAT of pure noise at this N; an nVAT near it means
# no measurable coupling. The paper's columns are labelled "paper, Table 2/10".

# %%
scores = metrics.value_scores(records)
cells = {name: steering.steering_cell(records, name, value, direction, n_resamples=n_resamples,
                                      seed=seed, scores=scores)
         for name, (value, direction, k) in plan.items()}
ours = pd.DataFrame([{**{key: cell[key] for key in ("target", "direction", "N", "gain", "nvat",
                                                     "gini", "nvat_std", "null_floor")},
                      "shots": plan[name][2]} for name, cell in cells.items()])
paper = pd.concat([paper_tables.table2(), paper_tables.table10()], ignore_index=True)
paper = paper[paper["model"] == paper_model].drop(columns=["model"])
paper["direction"] = paper["target"].map(paper_tables.STEERING_DIRECTIONS)
paper = paper.rename(columns={c: f"{c} (paper, Table 2/10, {paper_model})"
                              for c in ("gain", "nvat", "gini", "nvat_std")})
side_by_side = ours.merge(paper, on=["target", "direction", "shots"], how="left")
display(Markdown(f"Our numbers: {source}. The paper's Table 10 (Benevolence, Universalism) prints no "
                 "std of nVAT, so that paper column is empty (NaN) on those rows."))
display(side_by_side.set_index(["target", "direction", "shots"]))

# %% [markdown]
# ## 5. Where the tax sits: radar, chords, heatmaps, circumplex
#
# For each target at its largest k: VAT(v)/nVAT on a radar (1 = average load), the
# strongest |R| edges as chords (red positive, blue negative), and the VAT profile
# projected on the circumplex.

# %%
largest = {value: label for label, (value, _, k) in plan.items()
           if k == max(shot_counts)}
profiles = {name: cells[name]["vat"] / cells[name]["nvat"] for name in largest.values()}
plots.vat_radar(profiles, "VAT(v) / nVAT per steering objective", source)
plt.show()

# %%
columns = min(3, len(largest))
rows = int(np.ceil(len(largest) / columns))
figure, axes = plt.subplots(rows, columns, figsize=(4.2 * columns, 4.2 * rows), squeeze=False)
for axis, name in zip(axes.flat, largest.values()):
    plots_steering.chord_diagram(cells[name]["coupling"], name, source, top=8, axis=axis)
for axis in list(axes.flat)[len(largest):]:
    axis.axis("off")
figure.text(0.01, 0.005, f"Source: {source}", fontsize=7, color="0.35")
plt.show()

# %%
for name in list(largest.values())[:2]:
    plots.coupling_heatmap(cells[name]["coupling"], f"R, {name}", source)
    plt.show()

# %%
figure, axes = plt.subplots(rows, columns, figsize=(4.2 * columns, 4.2 * rows), squeeze=False)
for axis, name in zip(axes.flat, largest.values()):
    plots_steering.circumplex_projection(cells[name]["vat"], name, source, axis=axis)
for axis in list(axes.flat)[len(largest):]:
    axis.axis("off")
figure.text(0.01, 0.005, f"Source: {source}", fontsize=7, color="0.35")
plt.show()

# %% [markdown]
# Which values carry the tax, objective by objective: the three values with the largest
# VAT(v) for each target at its largest k, and how alike the VAT profiles of two
# objectives are (Spearman correlation over the values). The simulator plants one coupling
# for every target, so on the simulated backend differences between objectives are noise.
# Only a real model can show the paper's claim that different targets recruit different
# values.

# %%
vat_profiles = pd.DataFrame({name: cells[name]["vat"] for name in largest.values()})
top_values = {name: vat_profiles[name].nlargest(3).index.tolist() for name in vat_profiles}
display(pd.DataFrame(top_values, index=["largest VAT", "2nd", "3rd"]).T)
profile_agreement = vat_profiles.corr(method="spearman")
display(profile_agreement)
pairwise = metrics.off_diagonal(profile_agreement)
mean_agreement = float(np.mean(pairwise)) if len(pairwise) else float("nan")
display(Markdown(f"Mean Spearman correlation between two objectives' VAT profiles: {mean_agreement:.2f}."))
glue("top_values_by_objective", "; ".join(f"{name}: {', '.join(values)}" for name, values in top_values.items()),
     display=False)
glue("mean_profile_agreement", mean_agreement, display=False)
table10_rows = ours[ours["target"].isin(["Benevolence", "Universalism"]) & (ours["shots"] == max(shot_counts))]
glue("table10_targets", "; ".join(
    f"{row.target} {row.direction}, k = {row.shots}: Gain {row.gain:.2f}, nVAT {row.nvat:.3f} "
    f"(floor {row.null_floor:.3f})" for row in table10_rows.itertuples()) or "neither is among this run's targets",
     display=False)

# %% [markdown]
# ## 6. Planted vs recovered (simulated backend only)
#
# The simulator planted C = (1 - rho) I + rho K with K the circumplex cosine kernel. Likert
# cutting and answer noise attenuate it; the *expected observable coupling* is what an
# infinite sample of this model would show. The closer the points sit to the diagonal, the
# better VAT's R recovers the truth at this N.

# %%
if backend == "simulated":
    name = list(largest.values())[0]
    expected = judge.truth.expected_coupling(name, n_samples=40_000)
    # At rho = 0 the planted C has no off-diagonal entries, so its correlation is NaN; the
    # text below explains it in place of the warning.
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", metrics.UndefinedMetricWarning)
        plots_steering.planted_vs_recovered(cells[name]["coupling"], expected, judge.truth.coupling,
                                            f"planted vs recovered coupling, {name}", source)
        plt.show()
        display(pd.DataFrame({
            "condition": [name],
            "r(estimated, expected observable)": [recovery_correlation(cells[name]["coupling"], expected)],
            "r(estimated, planted C)": [recovery_correlation(cells[name]["coupling"], judge.truth.coupling)],
        }))
    sizes = {label: np.abs(metrics.off_diagonal(matrix)).mean() for label, matrix in (
        ("estimated R", cells[name]["coupling"]), ("expected observable", expected),
        ("planted C", judge.truth.coupling))}
    size_text = ", ".join(f"{size:.3f} for {label}" for label, size in sizes.items())
    if sim_rho == 0:
        display(Markdown(
            "With rho = 0 nothing is planted: the planted C has no off-diagonal entries, so its "
            "correlation with the estimate is undefined (NaN), and the expected observable coupling "
            "is zero up to its own sampling noise, so the first correlation compares noise with "
            f"noise. The mean |off-diagonal entry| is {size_text}."
        ))
    else:
        display(Markdown(
            "The two correlations are nearly equal because Pearson r does not change when every "
            "off-diagonal entry is scaled by the same factor, and the attenuation is close to such "
            f"a scaling. It shows in the sizes instead: the mean |off-diagonal entry| is {size_text}."
        ))
else:
    display(Markdown("Not a simulated run: there is no planted truth to compare with."))

# %% [markdown]
# ## What this shows and what it does not
#
# - The table has the shape of the paper's Table 2 and Table 10 and is computed by the same
#   functions, but our numbers come from the backend named above on **templated
#   placeholder scenes**, not from the paper's dataset; only the columns marked "paper"
#   are the paper's.
# - On the simulated backend, Gain follows the planted g(k) (a negative g_max gives a
#   negative Gain, as for GPT's Stimulation in Table 2), and nVAT reflects the planted rho;
#   with rho = 0 it falls to the null floor. Real models give no such ground truth.
# - The std of nVAT over 80% scene draws measures sensitivity to the scene set, not the
#   sampling error of nVAT itself; compare nVAT with the null floor as well.
# - Limit: with N test scenes the null floor is sqrt(9/(N-1)), 0.24 at the default
#   N = 158. It falls to the paper's nVAT of about 0.1 only at about 900 scenes, so at the
#   default size a tax of the paper's size is indistinguishable from noise. More scenes
#   (`scenes_per_pair`) lower the floor.

# %% [markdown]
# ## Exercises
#
# Try each one before you open its solution ("Show code cell content"). The solutions ran
# when this page was built, and each checks its own answer. They call the known-answer
# simulator directly (`vatnb.simulator.simulate`), so they run offline whatever the
# chapter's backend.
#
# ### Exercise 1: no planted coupling, no tax
#
# Simulate 200 scenes of suppressing Power with 8 shots, once with `rho=0` and once with
# `rho=0.5` (`SimulatorSettings(rho=..., micro_values_per_value=2)`). Compute the shifts
# (`vatnb.validation.shifts_from_records`) and their `metrics.vat_summary`. Predict where
# nVAT lands relative to the null floor in each case before you run it.

# %% tags=["hide-cell"]
# Solution to exercise 1.
from vatnb.simulator import simulate
from vatnb.validation import shifts_from_records

floor_ratios = {}
for planted_rho in (0.0, 0.5):
    simulation = simulate(200, SimulatorSettings(rho=planted_rho, micro_values_per_value=2),
                          target="Power", direction="suppress", shots=(8,), seed=seed)
    summary = metrics.vat_summary(shifts_from_records(simulation.records, "pre", "k=8"))
    floor_ratios[planted_rho] = summary.nvat / summary.null_floor
    print(f"rho = {planted_rho}: nVAT = {summary.nvat:.3f}, floor = {summary.null_floor:.3f}, "
          f"nVAT / floor = {floor_ratios[planted_rho]:.2f}")
assert floor_ratios[0.0] < 1.5, "with rho = 0, nVAT should sit near its floor"
assert floor_ratios[0.5] > 1.5, "with rho = 0.5, nVAT should clear its floor clearly"

# %% [markdown]
# ```{admonition} Explanation of exercise 1
# :class: dropdown
# With rho = 0 the post-steering shifts of different values are drawn independently, so
# every off-diagonal R_uw is noise of size about 1/sqrt(N - 1). nVAT then lands at the
# null floor sqrt(9/199) = 0.21, a little above or below it depending on the seed. The
# steered target's mean moves, but a shift in the mean does not create correlation across
# scenes. With rho = 0.5 the circumplex neighbours co-move, and nVAT is about twice the
# floor.
# ```
#
# ### Exercise 2: a steering effect that backfires
#
# Simulate reinforcing Security with k = 2, 4 and 8 shots, but with a planted saturation
# level `g_max=-0.4` (the model moves the target against the prompt, as GPT does for
# Stimulation in the paper's Table 2). Check the sign of Gain at every k, and compare its
# size with the planted latent effect `vatnb.simulator.steering_gain(k, -0.4, k0=2)`.

# %% tags=["hide-cell"]
# Solution to exercise 2.
from vatnb.simulator import steering_gain

backfire = simulate(200, SimulatorSettings(g_max=-0.4, micro_values_per_value=2),
                    target="Security", direction="reinforce", shots=(2, 4, 8), seed=seed)
for shot_count in (2, 4, 8):
    backfire_shifts = shifts_from_records(backfire.records, "pre", f"k={shot_count}")
    observed_gain = metrics.gain(backfire_shifts, "Security", "reinforce")
    planted_gain = float(steering_gain(shot_count, -0.4, k0=2.0))
    print(f"k = {shot_count}: Gain = {observed_gain:+.3f} (evidence units), "
          f"planted g(k) = {planted_gain:+.3f} (latent units)")
    assert observed_gain < 0, f"a backfiring model should give a negative Gain at k = {shot_count}"

# %% [markdown]
# ```{admonition} Explanation of exercise 2
# :class: dropdown
# Gain is signed in the intended direction, so a target that moves the wrong way gives a
# negative Gain at every k. Its size is smaller than the planted g(k): g(k) moves the
# latent endorsement, while Gain is measured on the cut 5-point answers mapped to
# [-1, 1], and the cutting and the answer noise attenuate the effect. Gain need not grow
# monotonically with k either, because every k is a separate run with its own noise.
# ```
#
# ### Exercise 3: how many scenes until the paper's nVAT is visible?
#
# The paper reports nVAT from 0.09 to 0.15 (Table 2). For 10 values, find by hand the smallest
# number of paired samples N at which the null floor sqrt(9/(N-1)) falls below 0.10, and
# check your answer with `metrics.null_floor`. How does it compare with the N of this
# chapter's run?

# %% tags=["hide-cell"]
# Solution to exercise 3.
# sqrt(9 / (N - 1)) < 0.1  <=>  N - 1 > 900  <=>  N >= 902.
smallest_samples = 902
assert metrics.null_floor(10, smallest_samples) < 0.1, "the floor should be below 0.1 at N = 902"
assert metrics.null_floor(10, smallest_samples - 1) >= 0.1, "the floor should still be 0.1 at N = 901"
print(f"smallest N with a floor below 0.10: {smallest_samples}; "
      f"this chapter's N: {int(ours['N'].min())} to {int(ours['N'].max())}, "
      f"floor {ours['null_floor'].max():.3f}")

# %% [markdown]
# ```{admonition} Explanation of exercise 3
# :class: dropdown
# The floor falls only as 1/sqrt(N): halving it takes four times the samples. At N = 901
# it is exactly 0.1, so an nVAT of 0.10 needs at least 902 paired samples just to reach
# the floor, and several times more to clear it with a margin. The templated scenes of
# this chapter give far fewer test scenes, which is why its floor sits near 0.2.
# ```

# %% tags=["hide-cell"]
provenance_table(parameters, seeds={"split, examples, simulator, resampling": seed})
