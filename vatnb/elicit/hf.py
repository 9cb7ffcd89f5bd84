"""Likert judgments read from a transformers causal LM's next-token probabilities.

For each prompt the chat template is applied (user turn, then the assistant
turn opened), and the model's next-token distribution is read at the options
"1".."k". The argmax is the rating, the probability-weighted mean is the
expected rating, and the summed probability of the options is the valid mass:
a prompt the model does not understand shows up as a low valid mass.

The same code runs a tiny local model on a CPU and, given a hub id such as
``Qwen/Qwen3-4B-Instruct-2507`` and a GPU, the paper's model.
"""

from __future__ import annotations

import copy
import hashlib
import inspect
import logging
import re
import warnings
from pathlib import Path

import numpy as np

from vatnb.elicit.engine import probabilities_to_judgment

log = logging.getLogger(__name__)


def option_token_ids(tokenizer, points: int) -> list[int]:
    """Return the token id of each option "1".."points".

    Raises
    ------
    ValueError
        If an option is not a single token in this tokenizer, because its
        probability could then not be read from one next-token distribution.
    """
    ids = []
    for option in range(1, int(points) + 1):
        encoded = tokenizer.encode(str(option), add_special_tokens=False)
        if len(encoded) != 1:
            raise ValueError(
                f"option {option!r} is {len(encoded)} tokens ({encoded}) in this tokenizer; "
                "log-probability reading needs single-token options"
            )
        ids.append(int(encoded[0]))
    return ids


def chat_texts(tokenizer, prompts, use_chat_template: bool = True) -> list[str]:
    """Return each prompt as a user turn with the assistant turn opened, via the chat template.

    Without a chat template on the tokenizer the raw prompts are used and a
    warning says so.
    """
    if not use_chat_template:
        return list(prompts)
    if not getattr(tokenizer, "chat_template", None):
        warnings.warn(
            "the tokenizer has no chat template; scoring the raw prompts", RuntimeWarning, stacklevel=2
        )
        return list(prompts)
    return [
        tokenizer.apply_chat_template(
            [{"role": "user", "content": prompt}],
            tokenize=False,
            add_generation_prompt=True,
            enable_thinking=False,
        )
        for prompt in prompts
    ]


# A token prefix shared by all prompts is run through the model once and its
# key/value cache reused when it is at least this many tokens long.
MIN_SHARED_PREFIX_TOKENS = 16


def likert_probabilities(
    model,
    tokenizer,
    prompts,
    batch_size: int = 8,
    points: int = 5,
    use_chat_template: bool = True,
    reuse_shared_prefix: bool = True,
) -> np.ndarray:
    """Return the next-token probabilities of the options "1".."points", shape (n, points).

    All prompts are tokenised in one call, then scored in order of token
    length, ``batch_size`` at a time, so that each batch is left-padded only
    to its own longest prompt. Position ids follow the attention mask, so a
    padded prompt gets the same probabilities as the prompt alone (up to
    float rounding), and only the last position's logits are computed. The
    probabilities are those of the full softmax over the vocabulary, not
    renormalised over the options. Rows are returned in the order of
    ``prompts``.

    Steering prompts of one condition share a long few-shot prefix. With
    ``reuse_shared_prefix`` the token prefix common to all prompts (at least
    ``MIN_SHARED_PREFIX_TOKENS`` long) is run once, and every batch,
    including batches of one prompt, continues from a copy of its key/value
    cache. The result equals scoring the whole prompts up to float rounding.
    """
    import torch

    if int(batch_size) < 1:
        raise ValueError(f"batch_size must be >= 1, got {batch_size!r}")
    option_ids = option_token_ids(tokenizer, points)
    texts = chat_texts(tokenizer, prompts, use_chat_template)
    if not texts:
        return np.empty((0, int(points)))
    encoded = tokenizer(texts, add_special_tokens=False)["input_ids"]
    lengths = np.array([len(ids) for ids in encoded])
    if (lengths == 0).any():
        raise ValueError(
            f"prompt {int(np.flatnonzero(lengths == 0)[0])} is empty after tokenisation; "
            "give every prompt some text or use the chat template"
        )
    # Padded positions are masked out, so any token id can fill them.
    pad_id = tokenizer.pad_token_id if tokenizer.pad_token_id is not None else tokenizer.eos_token_id
    pad_id = int(pad_id or 0)
    order = np.argsort(lengths, kind="stable")
    device = next(model.parameters()).device
    cache_keyword = _cache_keyword(model)
    reuse = reuse_shared_prefix and cache_keyword is not None and len(encoded) > 1
    shared = shared_prefix_length(encoded) if reuse else 0
    if shared < MIN_SHARED_PREFIX_TOKENS:
        shared = 0
    results = np.empty((len(texts), int(points)))
    model.eval()
    with torch.no_grad():
        prefix_cache = None
        if shared:
            prefix = torch.tensor([encoded[0][:shared]], dtype=torch.long, device=device)
            output = model(input_ids=prefix, use_cache=True)
            prefix_cache = getattr(output, cache_keyword)
        for start in range(0, len(texts), int(batch_size)):
            rows = order[start : start + int(batch_size)]
            input_ids, mask = _left_padded([encoded[row][shared:] for row in rows], pad_id)
            input_ids, mask = input_ids.to(device), mask.to(device)
            cache = None
            if prefix_cache is not None:
                # The model appends to the cache it is given, so each batch gets a copy.
                cache = copy.deepcopy(prefix_cache)
                cache.batch_repeat_interleave(len(rows))
                mask = torch.cat([mask.new_ones((len(rows), shared)), mask], dim=1)
            positions = (mask.cumsum(dim=1) - 1).clamp(min=0)[:, shared:]
            arguments = {cache_keyword: cache} if cache is not None else {}
            logits = model(
                input_ids=input_ids,
                attention_mask=mask,
                position_ids=positions,
                use_cache=cache is not None,
                logits_to_keep=1,
                **arguments,
            ).logits[:, -1, :]
            probabilities = torch.softmax(logits.float(), dim=-1)[:, option_ids]
            results[rows] = probabilities.cpu().numpy()
    return results


def _cache_keyword(model) -> str | None:
    """Return the forward argument that takes a key/value cache, or None when there is none.

    transformers 5.25 renamed ``past_key_values`` to ``cache`` model by model,
    and an unknown keyword would be swallowed by ``**kwargs`` and ignored, so
    the name is read from the signature.
    """
    parameters = inspect.signature(model.forward).parameters
    for keyword in ("cache", "past_key_values"):
        if keyword in parameters:
            return keyword
    return None


def shared_prefix_length(sequences: list[list[int]]) -> int:
    """Return the length of the token prefix common to all sequences, leaving each at least one token."""
    shortest = min(len(ids) for ids in sequences)
    first = np.asarray(sequences[0][: max(shortest - 1, 0)])
    common = first.size
    for ids in sequences[1:]:
        differs = np.flatnonzero(np.asarray(ids[:common]) != first[:common])
        if differs.size:
            common = int(differs[0])
    return common


def _left_padded(sequences: list[list[int]], pad_id: int):
    """Return (input_ids, attention_mask) tensors with each sequence right-aligned."""
    import torch

    width = max(len(ids) for ids in sequences)
    input_ids = torch.full((len(sequences), width), pad_id, dtype=torch.long)
    mask = torch.zeros((len(sequences), width), dtype=torch.long)
    for row, ids in enumerate(sequences):
        input_ids[row, width - len(ids) :] = torch.tensor(ids, dtype=torch.long)
        mask[row, width - len(ids) :] = 1
    return input_ids, mask


def load_model(model_id: str, device: str | None = None, dtype: str = "auto"):
    """Load a causal LM and its tokenizer from a folder or hub id (transformers 5 ``dtype``).

    Raises
    ------
    FileNotFoundError, NotADirectoryError
        When ``model_id`` looks like a path (see :func:`check_local_model`)
        and the folder does not exist, is a file, or lacks the model or
        tokenizer files.
    """
    import torch
    from transformers import AutoModelForCausalLM, AutoTokenizer

    model_id = check_local_model(model_id)
    device = device or ("cuda" if torch.cuda.is_available() else "cpu")
    torch_dtype = {"auto": "auto", "float32": torch.float32, "bfloat16": torch.bfloat16,
                   "float16": torch.float16}.get(dtype)
    if torch_dtype is None:
        raise ValueError(f"dtype must be auto, float32, bfloat16 or float16, got {dtype!r}")
    tokenizer = AutoTokenizer.from_pretrained(model_id)
    model = AutoModelForCausalLM.from_pretrained(model_id, dtype=torch_dtype).to(device)
    log.info("loaded %s on %s", model_id, device)
    return model, tokenizer


# A hub id is "name" or "namespace/name" of letters, digits, "-", "_" and ".", each part
# starting with a letter, digit or "_" (REPO_ID_REGEX in huggingface_hub 2.4).
HUB_ID = re.compile(r"\w[\w.-]*(/\w[\w.-]*)?")
# Files that a transformers tokenizer can be built from, one of which a model folder needs.
TOKENIZER_FILES = ("tokenizer.json", "tokenizer.model", "vocab.json", "vocab.txt", "spiece.model")
MODEL_FOLDER_HELP = (
    "a model folder needs config.json, the weights (*.safetensors or *.bin) and tokenizer "
    f"files (one of {', '.join(TOKENIZER_FILES)}), as save_pretrained writes them"
)


def check_local_model(model_id: str) -> str:
    """Return ``model_id`` with "~" expanded, raising an OSError when it names a path that is not a model folder.

    ``model_id`` is taken as a path when it exists on disk or cannot be a hub
    id: it starts with "/", "." or "~", contains a backslash, or has more than
    one "/". Anything else is returned unchanged for transformers to load as a
    hub id.
    """
    text = str(model_id)
    path = Path(text).expanduser()
    if not path.exists() and HUB_ID.fullmatch(text):
        return text
    if not path.exists():
        raise FileNotFoundError(
            f"model folder {text} does not exist; pass the folder of a saved model or a hub id "
            "such as Qwen/Qwen3-4B-Instruct-2507"
        )
    if not path.is_dir():
        raise NotADirectoryError(f"model {text} is a file, not a folder; {MODEL_FOLDER_HELP}")
    names = sorted(entry.name for entry in path.iterdir())
    lacking = []
    if "config.json" not in names:
        lacking.append("config.json")
    if not any(name.endswith(WEIGHT_SUFFIXES) for name in names):
        lacking.append("weights")
    if not any(name in TOKENIZER_FILES or name.endswith(".tiktoken") for name in names):
        lacking.append("tokenizer files")
    if lacking:
        listed = " and ".join([", ".join(lacking[:-1]), lacking[-1]]) if len(lacking) > 1 else lacking[0]
        contents = ", ".join(names[:10]) + (f" and {len(names) - 10} more" if len(names) > 10 else "")
        raise FileNotFoundError(
            f"model folder {text} lacks {listed} (it contains: {contents or 'nothing'}); "
            f"{MODEL_FOLDER_HELP}"
        )
    return str(path)


WEIGHT_SUFFIXES = (".safetensors", ".bin", ".pt", ".gguf")


def local_weights_fingerprint(folder: Path) -> str:
    """Return a SHA-256 over the names, sizes and modification times of a model folder's weight files.

    Sizes and times stand in for the contents, which can be gigabytes: a
    retrained or replaced checkpoint changes at least its modification time.
    """
    digest = hashlib.sha256()
    for path in sorted(folder.rglob("*")):
        if path.is_file() and (path.suffix in WEIGHT_SUFFIXES or path.name == "config.json"):
            status = path.stat()
            digest.update(f"{path.relative_to(folder)}:{status.st_size}:{status.st_mtime_ns}\n".encode())
    return digest.hexdigest()


def _checked_batch_size(batch_size) -> int:
    """Return ``batch_size`` as an int, raising ValueError unless it is a whole number of at least 1."""
    try:
        size = int(batch_size)
    except (TypeError, ValueError):
        size = None
    if size is None or size < 1 or (isinstance(batch_size, float) and size != batch_size):
        raise ValueError(
            f"batch_size must be a whole number of prompts per forward pass, 1 or more, got {batch_size!r}"
        )
    return size


class HFBackend:
    """Backend ``hf``: a transformers causal LM read by next-token probabilities.

    Parameters
    ----------
    model_id
        A local folder or a hub id.
    batch_size
        Prompts per forward pass, a whole number of at least 1.
    model, tokenizer
        Already loaded objects (for example a checkpoint under training);
        ``model_id`` then only names them in the cache key.
    """

    name = "hf"

    def __init__(self, model_id: str, batch_size: int = 8, device: str | None = None,
                 dtype: str = "auto", model=None, tokenizer=None, use_chat_template: bool = True):
        self.model = str(model_id)
        self.batch_size = _checked_batch_size(batch_size)
        self.dtype = dtype
        self.use_chat_template = use_chat_template
        if model is None or tokenizer is None:
            model, tokenizer = load_model(self.model, device=device, dtype=dtype)
        self._model, self._tokenizer = model, tokenizer

    def settings(self) -> dict:
        settings = {"reading": "next-token-probabilities", "chat_template": self.use_chat_template,
                    "dtype": str(self.dtype)}
        if Path(self.model).is_dir():
            # A local folder can be retrained in place under the same name.
            settings["weights"] = local_weights_fingerprint(Path(self.model))
        return settings

    def judge(self, items: list[dict], points: int, on_judgment) -> None:
        prompts = [item["prompt"] for item in items]
        for start in range(0, len(prompts), self.batch_size):
            chunk = prompts[start : start + self.batch_size]
            probabilities = likert_probabilities(
                self._model, self._tokenizer, chunk, self.batch_size, points, self.use_chat_template
            )
            for offset, row in enumerate(probabilities):
                on_judgment(start + offset, probabilities_to_judgment(row))
