"""Build a tiny Qwen3-architecture causal LM and tokenizer that need no download.

The model is a randomly initialised ``Qwen3ForCausalLM`` with a few million
parameters, and the tokenizer is a byte-level BPE trained here on a small
built-in English corpus. Both are saved to one folder, so that
``AutoModelForCausalLM.from_pretrained(path)`` and
``AutoTokenizer.from_pretrained(path)`` load them offline. The tokenizer splits
every digit into its own token, as Qwen's does, so the Likert ratings "1" to "5"
are single tokens.

Built folders are cached under ``$VATNB_CACHE_DIR/tiny-models`` (default
``~/.cache/vatnb/tiny-models``) by a SHA-256 hash of everything that defines
them, so a repeated call with the same settings returns at once.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import logging
import os
import shutil
import tempfile
from pathlib import Path

from vatnb.data import cache_root
from vatnb.dataset import COUNTRIES, TOPICS
from vatnb.taxonomy import MICRO_VALUES, VALUE_DEFINITIONS, VALUES

logger = logging.getLogger(__name__)

# Bump when the corpus, the tokenizer recipe or the saved files change, so old
# cache entries are not reused.
BUILDER_VERSION = 1

# Name of the file, inside a built folder, that records how it was built.
BUILD_INFO_FILE = "vatnb_tiny_model.json"

# Identifier written into training manifests for models built here.
TINY_MODEL_ID = "vatnb/tiny-qwen3"

PAD_TOKEN = "<|endoftext|>"
IM_START = "<|im_start|>"
IM_END = "<|im_end|>"
SPECIAL_TOKENS = (PAD_TOKEN, IM_START, IM_END)

# Qwen-style chat format without the thinking block.
CHAT_TEMPLATE = (
    "{%- for message in messages %}"
    "{{- '<|im_start|>' + message['role'] + '\\n' + message['content'] + '<|im_end|>\\n' }}"
    "{%- endfor %}"
    "{%- if add_generation_prompt %}"
    "{{- '<|im_start|>assistant\\n' }}"
    "{%- endif %}"
)

# The pre-tokenizer pattern of Qwen2/Qwen3 tokenizers: letters group with one
# leading non-letter, every digit (\p{N}) is a token of its own, and spaces
# split off before digits and punctuation runs.
_SPLIT_PATTERN = (
    r"(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}"
    r"| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+"
)

# Sentences written for this module: everyday situations, survey phrasing and
# answer formats, so the tokenizer learns words that the prompts of this
# project use.
_CORPUS_SENTENCES = (
    "You are taking part in a survey about what matters to you.",
    "Rate how important each value is as a guiding principle in your life.",
    "Answer with a single number from 1 to 5 and nothing else.",
    "1 means not important at all, 5 means extremely important.",
    "Scale: 1 2 3 4 5. Your answer: 3",
    "On a scale from 1 to 4, how much do you agree with the statement?",
    "The answer is 1. The answer is 2. The answer is 3. The answer is 4. The answer is 5.",
    "Read the scene and choose the action that you would take.",
    "A friend asks you for help moving to a new apartment on the weekend.",
    "Your manager offers you a promotion that requires moving to another city.",
    "A neighbour plays loud music late at night while you try to sleep.",
    "You find a wallet on the street with money and an identity card inside.",
    "Your team can finish the project early if you skip the safety checks.",
    "A colleague takes credit for work that you did last month.",
    "You are invited to a festival with music, dancing and good food.",
    "Your family expects you to follow the customs of your grandparents.",
    "A stranger on the train asks you to watch their bag for a moment.",
    "The community council wants volunteers to clean the river bank.",
    "I would help my friend, because loyalty to people close to me matters.",
    "I would accept the offer, because success and recognition matter to me.",
    "I would decline politely and keep the rules that keep everyone safe.",
    "I would try something new and exciting, even if it is a little risky.",
    "I would protect the environment and treat every person fairly.",
    "I would take control of the situation and make the final decision myself.",
    "I would enjoy the moment and treat myself to something pleasant.",
    "I would respect the tradition and do what my elders expect of me.",
    "I would think for myself and choose my own path.",
    "I would avoid upsetting others and follow the social norms.",
    "The action reflects the value. The action goes against the value.",
    "Intended polarity: reinforce. Intended polarity: suppress.",
    "Country, topic, scene, micro value, value, polarity, action, split.",
    "Train, validation and test sets are kept apart by scene.",
    "People in every country face choices between competing values.",
    "Health, money, work, family, friends, education, travel and politics.",
    "The quick brown fox jumps over the lazy dog near the quiet river.",
    "She said that they would meet again next week at the same place.",
    "What would you do in this situation? Explain your choice briefly.",
    "system user assistant: the user asks, the assistant answers, the system sets the rules.",
    "Suppose you are in the following scene. How likely is it that you would take this action?",
    "1 = definitely would not, 2 = probably would not, 3 = unsure, 4 = probably would, 5 = definitely would.",
    "[template] Placeholder scene set in a country about a topic: several people with different "
    "roles and obligations meet, and none of them is told what to do.",
    "Context: a scene. Action: an action. Decision: a decision. Answer: a number. How?",
    "[template] I act on it in this situation. [template] I set aside it in this situation.",
    "Yes. No. Maybe. Not sure. It depends on the situation.",
)


@dataclasses.dataclass(frozen=True)
class TinyQwen3Spec:
    """Settings that define a tiny Qwen3 model and its tokenizer.

    Every field enters the cache key, so changing any of them builds a new folder.
    The defaults give about 0.7 million parameters (tied input and output
    embeddings): small enough that training and scoring a few hundred
    prompts per checkpoint take seconds on two shared CPU cores.
    """

    seed: int = 0
    vocab_size: int = 4096  # maximum BPE vocabulary; the model's embedding matches the result
    hidden_size: int = 128
    intermediate_size: int = 512
    num_hidden_layers: int = 2
    num_attention_heads: int = 4
    num_key_value_heads: int = 2
    head_dim: int = 32
    max_position_embeddings: int = 4096
    rope_theta: float = 1_000_000.0
    tie_word_embeddings: bool = True

    def __post_init__(self) -> None:
        for field in dataclasses.fields(self):
            value = getattr(self, field.name)
            if field.type in ("int", int) and (not isinstance(value, int) or value < 0):
                raise ValueError(f"TinyQwen3Spec.{field.name} must be a non-negative int, got {value!r}")
        if self.num_attention_heads % self.num_key_value_heads != 0:
            raise ValueError(
                "TinyQwen3Spec.num_attention_heads must be a multiple of num_key_value_heads, "
                f"got {self.num_attention_heads} and {self.num_key_value_heads}"
            )
        if self.vocab_size < 300:
            raise ValueError(
                f"TinyQwen3Spec.vocab_size must be at least 300 (256 byte symbols plus "
                f"special tokens and merges), got {self.vocab_size}"
            )


def tiny_corpus() -> list[str]:
    """Return the built-in English corpus that the tiny tokenizer is trained on.

    It combines this module's sentences with the value names, value definitions
    and micro-value glosses of :mod:`vatnb.taxonomy` and the countries and
    topics of :mod:`vatnb.dataset`, so these terms become whole tokens.
    """
    lines = list(_CORPUS_SENTENCES)
    for value in VALUES:
        lines.append(f"{value}: {VALUE_DEFINITIONS[value]}.")
    for micro_value, (value, gloss) in MICRO_VALUES.items():
        lines.append(f"{micro_value} ({value}): {gloss}.")
    lines.append(" ".join(str(digit) for digit in range(10)))
    lines.append(", ".join(COUNTRIES) + ".")
    lines.append(", ".join(TOPICS) + ".")
    return lines


def tiny_model_cache_dir() -> Path:
    """Return the folder of cached builds (``$VATNB_CACHE_DIR/tiny-models``, default ``~/.cache/vatnb/tiny-models``)."""
    return cache_root() / "tiny-models"


def _build_key(spec: TinyQwen3Spec) -> str:
    """Return the SHA-256 hex digest of the spec, the corpus and the builder version."""
    import tokenizers
    import transformers

    payload = {
        "builder_version": BUILDER_VERSION,
        "spec": dataclasses.asdict(spec),
        "corpus": tiny_corpus(),
        "chat_template": CHAT_TEMPLATE,
        "split_pattern": _SPLIT_PATTERN,
        "special_tokens": list(SPECIAL_TOKENS),
        "transformers": transformers.__version__,
        "tokenizers": tokenizers.__version__,
    }
    text = json.dumps(payload, sort_keys=True, ensure_ascii=True)
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def build_tiny_tokenizer(spec: TinyQwen3Spec):
    """Train a byte-level BPE on :func:`tiny_corpus` and wrap it for transformers.

    Returns
    -------
    transformers.PreTrainedTokenizerFast
        With the chat template, ``<|im_end|>`` as end-of-sequence token and
        ``<|endoftext|>`` as padding token (the roles they have in Qwen3 chat models).
    """
    from tokenizers import Regex, Tokenizer, decoders, models, pre_tokenizers, trainers
    from transformers import PreTrainedTokenizerFast

    tokenizer = Tokenizer(models.BPE())
    tokenizer.pre_tokenizer = pre_tokenizers.Sequence(
        [
            pre_tokenizers.Split(Regex(_SPLIT_PATTERN), behavior="isolated"),
            pre_tokenizers.ByteLevel(add_prefix_space=False, use_regex=False),
        ]
    )
    tokenizer.decoder = decoders.ByteLevel()
    trainer = trainers.BpeTrainer(
        vocab_size=spec.vocab_size,
        special_tokens=list(SPECIAL_TOKENS),
        initial_alphabet=pre_tokenizers.ByteLevel.alphabet(),
        show_progress=False,
    )
    tokenizer.train_from_iterator(tiny_corpus(), trainer=trainer)

    wrapped = PreTrainedTokenizerFast(
        tokenizer_object=tokenizer,
        eos_token=IM_END,
        pad_token=PAD_TOKEN,
        additional_special_tokens=[IM_START],
        padding_side="right",
        model_max_length=spec.max_position_embeddings,
    )
    wrapped.chat_template = CHAT_TEMPLATE
    return wrapped


def _padded_vocab_size(token_count: int, multiple: int = 64) -> int:
    return -(-token_count // multiple) * multiple


def build_tiny_model(spec: TinyQwen3Spec, tokenizer):
    """Return a randomly initialised ``Qwen3ForCausalLM`` sized by ``spec``, seeded by ``spec.seed``."""
    import torch
    from transformers import Qwen3Config, Qwen3ForCausalLM

    config = Qwen3Config(
        vocab_size=_padded_vocab_size(len(tokenizer)),
        hidden_size=spec.hidden_size,
        intermediate_size=spec.intermediate_size,
        num_hidden_layers=spec.num_hidden_layers,
        num_attention_heads=spec.num_attention_heads,
        num_key_value_heads=spec.num_key_value_heads,
        head_dim=spec.head_dim,
        max_position_embeddings=spec.max_position_embeddings,
        rope_theta=spec.rope_theta,
        tie_word_embeddings=spec.tie_word_embeddings,
        bos_token_id=None,
        eos_token_id=tokenizer.eos_token_id,
        pad_token_id=tokenizer.pad_token_id,
    )
    generator_state = torch.random.get_rng_state()
    try:
        torch.manual_seed(spec.seed)
        model = Qwen3ForCausalLM(config)
    finally:
        torch.random.set_rng_state(generator_state)
    model.generation_config.eos_token_id = tokenizer.eos_token_id
    model.generation_config.pad_token_id = tokenizer.pad_token_id
    return model


def tiny_qwen3(directory: str | os.PathLike | None = None, spec: TinyQwen3Spec | None = None, **overrides) -> Path:
    """Build and save a tiny Qwen3 causal LM with its tokenizer, reusing a cached build.

    Parameters
    ----------
    directory
        Folder to save into. ``None`` (default) uses the cache folder
        ``tiny_model_cache_dir()/qwen3-tiny-<hash>``. A given folder that
        already contains a build with the same hash is reused. A non-empty
        folder with any other content raises ``FileExistsError``.
    spec
        Model and tokenizer settings (default :class:`TinyQwen3Spec`).
    **overrides
        Fields of :class:`TinyQwen3Spec` to change, for example ``seed=1``.

    Returns
    -------
    pathlib.Path
        The folder, loadable with ``AutoModelForCausalLM.from_pretrained`` and
        ``AutoTokenizer.from_pretrained`` without network access. Its
        ``vatnb_tiny_model.json`` records the spec and the hash.
    """
    spec = dataclasses.replace(spec or TinyQwen3Spec(), **overrides)
    key = _build_key(spec)
    if directory is None:
        target = tiny_model_cache_dir() / f"qwen3-tiny-{key[:16]}"
    else:
        target = Path(directory)

    if _holds_build(target, key):
        logger.debug("Reusing the tiny Qwen3 build in %s", target)
        return target
    if target.exists() and any(target.iterdir()):
        raise FileExistsError(
            f"Cannot build into {target}: the folder is not empty and contains no tiny Qwen3 "
            f"build with hash {key[:16]}. Pass an empty or new folder."
        )

    logger.info("Building a tiny Qwen3 model and tokenizer in %s", target)
    tokenizer = build_tiny_tokenizer(spec)
    model = build_tiny_model(spec, tokenizer)

    # Write into a sibling temporary folder and rename it into place, so an
    # interrupted build never leaves a half-written folder that looks complete.
    target.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=f".{target.name}-", dir=target.parent))
    try:
        model.save_pretrained(staging)
        tokenizer.save_pretrained(staging)
        info = {
            "hash": key,
            "model_id": TINY_MODEL_ID,
            "builder_version": BUILDER_VERSION,
            "spec": dataclasses.asdict(spec),
            "parameters": sum(p.numel() for p in model.parameters()),
            "vocab_size": len(tokenizer),
        }
        (staging / BUILD_INFO_FILE).write_text(json.dumps(info, indent=2) + "\n")
        if target.exists():
            target.rmdir()  # empty, checked above
        try:
            staging.rename(target)
        except OSError:
            # Another process finished the same build first.
            if not _holds_build(target, key):
                raise
    finally:
        if staging.exists():
            shutil.rmtree(staging, ignore_errors=True)
    return target


def _holds_build(folder: Path, key: str) -> bool:
    info_path = folder / BUILD_INFO_FILE
    if not info_path.is_file():
        return False
    try:
        info = json.loads(info_path.read_text())
    except (OSError, json.JSONDecodeError):
        return False
    return info.get("hash") == key


def read_build_info(folder: str | os.PathLike) -> dict | None:
    """Return the build record of a folder made by :func:`tiny_qwen3`, or ``None`` for other folders."""
    info_path = Path(folder) / BUILD_INFO_FILE
    if not info_path.is_file():
        return None
    return json.loads(info_path.read_text())
