"""Pluggable free-text generation backends with an on-disk response cache.

Three backends share one interface, :class:`TextBackend`:

- :class:`OpenAICompatibleBackend`: any server that speaks the OpenAI chat
  completions API (OpenAI, DeepSeek, a local vLLM or Ollama server), with
  bounded, logged retries;
- :class:`HuggingFaceBackend`: a local ``transformers`` causal LM;
- :class:`ReplayBackend`: recorded or scripted responses and no model at all,
  for offline runs and tests.

:func:`generate_texts` runs a list of :class:`TextRequest` through a backend
and a :class:`ResponseCache`. The cache stores one file per call, keyed by
(backend, model, prompt, decoding settings, sample index), and writes it
atomically as soon as the answer arrives. A run that is killed therefore
loses at most the call in flight, and rerunning it repeats no call that had
already returned.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import tempfile
import time
from abc import ABC, abstractmethod
from collections.abc import Callable, Mapping, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path

from tqdm import tqdm

from vatnb import credentials
from vatnb.credentials import redact

log = logging.getLogger(__name__)

DEFAULT_API_KEY_VARIABLE = "OPENAI_API_KEY"


class TextGenerationError(RuntimeError):
    """A backend produced no text: its attempts ran out, or the server rejected the request."""


class APIKeyRejectedError(TextGenerationError, credentials.APIKeyRejectedError):
    """The server rejected the API key (HTTP 401) or its permissions (HTTP 403).

    Also a :class:`vatnb.credentials.APIKeyRejectedError`, the class that the
    elicitation backend raises, so one ``except`` catches both.
    """


class ReplayMissError(KeyError):
    """A replay backend was asked for a prompt it has no recorded answer for."""

    def __str__(self) -> str:
        return str(self.args[0])


@dataclass(frozen=True)
class DecodingSettings:
    """Decoding parameters sent with every request; part of the cache key.

    Chen and Shen generated scenes and actions with gpt-4o-mini at temperature 0.7.
    """

    temperature: float = 0.7
    max_tokens: int = 256
    top_p: float = 1.0
    seed: int | None = None

    def __post_init__(self) -> None:
        if self.temperature < 0:
            raise ValueError(f"temperature must be >= 0, got {self.temperature}")
        if self.max_tokens < 1:
            raise ValueError(f"max_tokens must be >= 1, got {self.max_tokens}")
        if not 0.0 < self.top_p <= 1.0:
            raise ValueError(f"top_p must be in (0, 1], got {self.top_p}")


@dataclass(frozen=True)
class TextRequest:
    """One prompt to complete; ``sample_index`` distinguishes repeated draws of one prompt."""

    prompt: str
    settings: DecodingSettings = field(default_factory=DecodingSettings)
    sample_index: int = 0


@dataclass(frozen=True)
class Generated:
    """The text returned for one request and whether it came from the cache."""

    request: TextRequest
    text: str
    from_cache: bool


class TextBackend(ABC):
    """A model that turns a :class:`TextRequest` into text.

    ``name`` and ``model`` identify the backend in cache keys and logs.
    """

    name: str = "backend"
    model: str = ""

    @abstractmethod
    def generate(self, request: TextRequest) -> str:
        """Return the completion of one request."""


class ResponseCache:
    """One JSON file per completed call under ``directory``, written atomically.

    Files hold the backend name, model, prompt, settings, sample index and
    the response text; never an API key.
    """

    def __init__(self, directory: str | Path) -> None:
        self.directory = Path(directory).expanduser()
        self.directory.mkdir(parents=True, exist_ok=True)

    @staticmethod
    def key(backend: str, model: str, request: TextRequest) -> str:
        """Return the SHA-256 hex key of one call."""
        identity = {
            "backend": backend,
            "model": model,
            "prompt": request.prompt,
            "settings": asdict(request.settings),
            "sample_index": request.sample_index,
        }
        encoded = json.dumps(identity, sort_keys=True, ensure_ascii=False).encode("utf-8")
        return hashlib.sha256(encoded).hexdigest()

    def path(self, key: str) -> Path:
        """Return the file that stores the call with this key."""
        return self.directory / key[:2] / f"{key}.json"

    def get(self, key: str) -> str | None:
        """Return the cached response text, or None when the call is not cached."""
        path = self.path(key)
        if not path.is_file():
            return None
        with open(path, encoding="utf-8") as handle:
            return json.load(handle)["response"]

    def put(self, key: str, backend: str, model: str, request: TextRequest, response: str) -> None:
        """Store one response: write a temporary file, flush it to disk, then rename it."""
        path = self.path(key)
        path.parent.mkdir(parents=True, exist_ok=True)
        record = {
            "backend": backend,
            "model": model,
            "prompt": request.prompt,
            "settings": asdict(request.settings),
            "sample_index": request.sample_index,
            "response": response,
        }
        descriptor, temporary = tempfile.mkstemp(dir=path.parent, prefix=".tmp-", suffix=".json")
        try:
            with os.fdopen(descriptor, "w", encoding="utf-8") as handle:
                json.dump(record, handle, ensure_ascii=False)
                handle.flush()
                os.fsync(handle.fileno())
            os.replace(temporary, path)
        except BaseException:
            Path(temporary).unlink(missing_ok=True)
            raise

    def __len__(self) -> int:
        return sum(1 for _ in self.directory.glob("??/*.json"))


def generate_texts(
    backend: TextBackend,
    requests: Sequence[TextRequest],
    cache: ResponseCache | None = None,
    description: str = "generating",
    progress: bool = True,
) -> list[Generated]:
    """Complete every request, reading from and writing to the cache.

    Requests run one at a time in order. Each response is stored before the
    next request starts, so an interrupted run can be rerun with the same
    arguments and only the calls that had not returned are sent again.
    """
    results: list[Generated] = []
    calls = hits = 0
    for request in tqdm(requests, desc=description, disable=not progress):
        key = ResponseCache.key(backend.name, backend.model, request)
        cached = cache.get(key) if cache is not None else None
        if cached is not None:
            results.append(Generated(request, cached, True))
            hits += 1
            continue
        text = backend.generate(request)
        calls += 1
        if cache is not None:
            cache.put(key, backend.name, backend.model, request, text)
        results.append(Generated(request, text, False))
    log.info(
        "%s: %d requests to %s/%s, %d from cache, %d new calls",
        description, len(requests), backend.name, backend.model, hits, calls,
    )
    return results


class ReplayBackend(TextBackend):
    """Return recorded responses (a mapping) or a scripted function's output, never a model's.

    Give it the ``name`` and ``model`` of the backend that produced a cache to
    replay that cache through :func:`generate_texts`: every cached request is
    then answered from the cache, and any other request raises
    :class:`ReplayMissError` unless ``responses`` covers it.
    """

    def __init__(
        self,
        responses: Mapping[str, str] | Callable[[TextRequest], str] | None = None,
        name: str = "replay",
        model: str = "replay",
    ) -> None:
        self.responses = responses
        self.name = name
        self.model = model

    def generate(self, request: TextRequest) -> str:
        if callable(self.responses):
            return self.responses(request)
        if self.responses is not None and request.prompt in self.responses:
            return self.responses[request.prompt]
        raise ReplayMissError(
            f"no recorded response for this prompt in replay backend {self.name}/{self.model} "
            f"(prompt starts {request.prompt[:60]!r}); run it once with a live backend to record it"
        )


_RETRYABLE_STATUS = "HTTP 429 or 5xx, timeout, connection error or malformed response"


class OpenAICompatibleBackend(TextBackend):
    """Chat completions from any OpenAI-compatible server.

    Parameters
    ----------
    model
        Model name on the server (``"gpt-4o-mini"``, ``"deepseek-chat"``).
    base_url
        API root, e.g. ``"https://api.deepseek.com/v1"`` or
        ``"http://localhost:11434/v1"``; None uses the ``openai`` package default.
    api_key_variable
        Name of the environment variable that holds the key. The key is read
        once, never logged and never cached, and it is removed from every
        message this backend logs or raises, even where the server echoes it.
        Local servers that ignore keys still need the variable set to any
        placeholder (e.g. ``EMPTY``).
    max_retries
        Retries after the first attempt on HTTP 429, HTTP 5xx, timeouts,
        connection errors and malformed response bodies. HTTP 401 and 403
        raise :class:`APIKeyRejectedError` at once, and other API errors raise
        :class:`TextGenerationError` at once.
    timeout
        Seconds to wait for one response.
    backoff
        Seconds before the first retry, doubled for each further retry and
        capped at ``max_backoff``.
    """

    name = "openai-compatible"

    def __init__(
        self,
        model: str,
        base_url: str | None = None,
        api_key_variable: str = DEFAULT_API_KEY_VARIABLE,
        max_retries: int = 3,
        timeout: float = 60.0,
        backoff: float = 1.0,
        max_backoff: float = 30.0,
    ) -> None:
        import openai

        if max_retries < 0:
            raise ValueError(f"max_retries must be >= 0, got {max_retries}")
        api_key = os.environ.get(api_key_variable)
        if not api_key:
            raise ValueError(
                f"environment variable {api_key_variable} is not set; set it to the API key "
                "(for a local server that ignores keys, any placeholder such as EMPTY)"
            )
        credentials.check_connection_settings(api_key, api_key_variable, base_url)
        self.model = model
        self.base_url = base_url
        self.api_key_variable = api_key_variable
        self._secrets = (api_key,)
        self.max_retries = max_retries
        self.backoff = backoff
        self.max_backoff = max_backoff
        self._openai = openai
        # The client's own retries are off so that every retry is counted and logged here.
        self._client = openai.OpenAI(
            api_key=api_key, base_url=base_url, timeout=timeout, max_retries=0
        )

    def generate(self, request: TextRequest) -> str:
        """Return the completion of one request, retrying the errors listed in the class docstring.

        The errors raised here are chained to nothing (``from None``), because
        the client's exception text can contain the server's echo of the key.
        """
        openai = self._openai
        attempts = self.max_retries + 1
        for attempt in range(1, attempts + 1):
            try:
                return self._complete_once(request)
            except (openai.AuthenticationError, openai.PermissionDeniedError) as error:
                raise self._key_rejected(error) from None
            except Exception as error:  # narrowed by _is_retryable just below
                reason = self._describe_error(error)
                if not self._is_retryable(error):
                    if not isinstance(error, openai.APIError):
                        raise
                    raise TextGenerationError(
                        f"{self.model} at {self._server()} rejected the request: {reason}. "
                        "Check the model name, base_url and the decoding settings"
                    ) from None
                if attempt == attempts:
                    log.error(
                        "%s/%s: attempt %d of %d failed (%s); giving up",
                        self.name, self.model, attempt, attempts, reason,
                    )
                    raise TextGenerationError(
                        f"{self.model} at {self._server()} failed "
                        f"{attempts} times; last error: {reason}. Check the server, or raise "
                        "max_retries if it is only overloaded"
                    ) from None
                delay = min(self.backoff * 2 ** (attempt - 1), self.max_backoff)
                log.warning(
                    "%s/%s: attempt %d of %d failed (%s); retrying in %.2f s",
                    self.name, self.model, attempt, attempts, reason, delay,
                )
                time.sleep(delay)
        raise TextGenerationError(f"{self.model}: no attempt was made (max_retries={self.max_retries})")

    def _server(self) -> str:
        return redact(self.base_url, self._secrets) if self.base_url else "the default OpenAI URL"

    def _describe_error(self, error: Exception) -> str:
        """Return the status, type and first 200 characters of an error, with the key removed."""
        status = getattr(error, "status_code", None)
        prefix = f"HTTP {status} " if status is not None else ""
        # Redact before truncating, so that no cut-off part of a key is left to match.
        text = redact(str(error), self._secrets)[:200]
        return f"{prefix}{type(error).__name__}: {text}"

    def _key_rejected(self, error: Exception) -> APIKeyRejectedError:
        """Build the error for HTTP 401 or 403 without the server's message, which may echo the key."""
        status = getattr(error, "status_code", None)
        if isinstance(error, self._openai.PermissionDeniedError):
            advice = f"check that the key has access to the model {self.model!r}"
        else:
            advice = f"check the key in ${self.api_key_variable}"
        return APIKeyRejectedError(
            f"the server at {self._server()} rejected the API key read from "
            f"${self.api_key_variable} (HTTP {status}, {type(error).__name__}): {advice}"
        )

    def _complete_once(self, request: TextRequest) -> str:
        settings = request.settings
        response = self._client.chat.completions.create(
            model=self.model,
            messages=[{"role": "user", "content": request.prompt}],
            temperature=settings.temperature,
            max_tokens=settings.max_tokens,
            top_p=settings.top_p,
            # Repeated draws of one prompt get distinct seeds, or a seeded server would repeat itself.
            seed=None if settings.seed is None else settings.seed + request.sample_index,
        )
        choices = getattr(response, "choices", None)
        content = choices[0].message.content if choices else None
        if not isinstance(content, str):
            raise MalformedResponseError("the response has no choices[0].message.content string")
        return content

    def _is_retryable(self, error: Exception) -> bool:
        openai = self._openai
        if isinstance(error, (openai.RateLimitError, openai.InternalServerError)):
            return True
        if isinstance(error, openai.APIStatusError):
            return error.status_code == 429 or error.status_code >= 500
        if isinstance(error, (openai.APITimeoutError, openai.APIConnectionError)):
            return True
        return isinstance(error, (MalformedResponseError, json.JSONDecodeError, openai.APIResponseValidationError))


class MalformedResponseError(ValueError):
    """A server returned a body that is not a chat completion."""


class HuggingFaceBackend(TextBackend):
    """Generation with a local ``transformers`` causal language model.

    Parameters
    ----------
    model
        A model folder or hub id (loaded with ``AutoModelForCausalLM``), or a
        loaded ``PreTrainedModel``.
    tokenizer
        A tokenizer, or None to load one from ``model``.
    use_chat_template
        Wrap the prompt as one user message with the tokenizer's chat
        template when the tokenizer has one; otherwise feed the raw prompt.
    device
        Torch device for the model and inputs.

    Sampling (temperature > 0) is seeded from ``settings.seed`` plus the
    request's ``sample_index`` so that reruns draw the same text; temperature
    0 decodes greedily.
    """

    name = "transformers"

    def __init__(self, model, tokenizer=None, use_chat_template: bool = True, device: str = "cpu") -> None:
        from transformers import AutoModelForCausalLM, AutoTokenizer

        if isinstance(model, (str, Path)):
            self.model = str(model)
            self._model = AutoModelForCausalLM.from_pretrained(str(model))
        else:
            self._model = model
            self.model = str(getattr(model, "name_or_path", "") or type(model).__name__)
        if tokenizer is None:
            tokenizer = AutoTokenizer.from_pretrained(self.model)
        self._tokenizer = tokenizer
        self._device = device
        self._model.to(device)
        self._model.eval()
        self._use_chat_template = use_chat_template and bool(getattr(tokenizer, "chat_template", None))

    def generate(self, request: TextRequest) -> str:
        import torch

        settings = request.settings
        if self._use_chat_template:
            inputs = self._tokenizer.apply_chat_template(
                [{"role": "user", "content": request.prompt}],
                add_generation_prompt=True,
                return_tensors="pt",
                return_dict=True,
            )
        else:
            inputs = self._tokenizer(request.prompt, return_tensors="pt")
        inputs = {name: tensor.to(self._device) for name, tensor in inputs.items()}
        sampling = settings.temperature > 0
        options = {"max_new_tokens": settings.max_tokens, "do_sample": sampling}
        if sampling:
            options.update(temperature=settings.temperature, top_p=settings.top_p)
            torch.manual_seed((settings.seed or 0) + request.sample_index)
        pad_id = self._tokenizer.pad_token_id
        if pad_id is None:
            pad_id = self._tokenizer.eos_token_id
        with torch.no_grad():
            output = self._model.generate(**inputs, pad_token_id=pad_id, **options)
        new_tokens = output[0, inputs["input_ids"].shape[1]:]
        return self._tokenizer.decode(new_tokens, skip_special_tokens=True).strip()
