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

import logging
import warnings

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


def likert_probabilities(
    model, tokenizer, prompts, batch_size: int = 8, points: int = 5, use_chat_template: bool = True
) -> np.ndarray:
    """Return the next-token probabilities of the options "1".."points", shape (n, points).

    Prompts are scored in batches with left padding; position ids follow the
    attention mask, so a padded prompt gets the same probabilities as the
    prompt alone (up to float rounding). The probabilities are those of the
    full softmax over the vocabulary, not renormalised over the options.
    """
    import torch

    if int(batch_size) < 1:
        raise ValueError(f"batch_size must be >= 1, got {batch_size!r}")
    option_ids = option_token_ids(tokenizer, points)
    texts = chat_texts(tokenizer, prompts, use_chat_template)
    if tokenizer.pad_token_id is None:
        tokenizer.pad_token = tokenizer.eos_token
    tokenizer.padding_side = "left"
    device = next(model.parameters()).device
    results = []
    model.eval()
    with torch.no_grad():
        for start in range(0, len(texts), int(batch_size)):
            batch = tokenizer(
                texts[start : start + int(batch_size)],
                return_tensors="pt",
                padding=True,
                add_special_tokens=False,
            ).to(device)
            mask = batch["attention_mask"]
            positions = (mask.cumsum(dim=1) - 1).clamp(min=0)
            logits = model(
                input_ids=batch["input_ids"], attention_mask=mask, position_ids=positions
            ).logits[:, -1, :]
            probabilities = torch.softmax(logits.float(), dim=-1)[:, option_ids]
            results.append(probabilities.cpu().numpy())
    if not results:
        return np.empty((0, int(points)))
    return np.vstack(results).astype(float)


def load_model(model_id: str, device: str | None = None, dtype: str = "auto"):
    """Load a causal LM and its tokenizer from a folder or hub id (transformers 5 ``dtype``)."""
    import torch
    from transformers import AutoModelForCausalLM, AutoTokenizer

    device = device or ("cuda" if torch.cuda.is_available() else "cpu")
    torch_dtype = {"auto": "auto", "float32": torch.float32, "bfloat16": torch.bfloat16,
                   "float16": torch.float16}.get(dtype)
    if torch_dtype is None:
        raise ValueError(f"dtype must be auto, float32, bfloat16 or float16, got {dtype!r}")
    tokenizer = AutoTokenizer.from_pretrained(model_id)
    model = AutoModelForCausalLM.from_pretrained(model_id, dtype=torch_dtype).to(device)
    log.info("loaded %s on %s", model_id, device)
    return model, tokenizer


class HFBackend:
    """Backend ``hf``: a transformers causal LM read by next-token probabilities.

    Parameters
    ----------
    model_id
        A local folder or a hub id.
    batch_size
        Prompts per forward pass.
    model, tokenizer
        Already loaded objects (for example a checkpoint under training);
        ``model_id`` then only names them in the cache key.
    """

    name = "hf"

    def __init__(self, model_id: str, batch_size: int = 8, device: str | None = None,
                 dtype: str = "auto", model=None, tokenizer=None, use_chat_template: bool = True):
        self.model = str(model_id)
        self.batch_size = int(batch_size)
        self.dtype = dtype
        self.use_chat_template = use_chat_template
        if model is None or tokenizer is None:
            model, tokenizer = load_model(self.model, device=device, dtype=dtype)
        self._model, self._tokenizer = model, tokenizer

    def settings(self) -> dict:
        return {"reading": "next-token-probabilities", "chat_template": self.use_chat_template,
                "dtype": str(self.dtype)}

    def judge(self, items: list[dict], points: int, on_judgment) -> None:
        prompts = [item["prompt"] for item in items]
        for start in range(0, len(prompts), self.batch_size):
            chunk = prompts[start : start + self.batch_size]
            probabilities = likert_probabilities(
                self._model, self._tokenizer, chunk, self.batch_size, points, self.use_chat_template
            )
            for offset, row in enumerate(probabilities):
                on_judgment(start + offset, probabilities_to_judgment(row))
