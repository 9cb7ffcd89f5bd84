"""Backend ``openai``: any OpenAI-compatible chat API, read by text or by logprobs.

The key is read only from an environment variable (default
``OPENAI_API_KEY``); it never enters a cache key, a judgment, a log line or a
notebook. Requests run concurrently in a thread pool with a bounded start
rate, and 429, 5xx, timeouts, connection errors and malformed bodies are retried with
exponential backoff. A rejected key (HTTP 401 or 403) stops the run at once
with :class:`APIKeyRejectedError`, and ``max_consecutive_failures`` items in a
row (by default twice the concurrency) that fail after all attempts stop it
with :class:`ServerFailedError`. On
these errors or on KeyboardInterrupt, queued requests are cancelled, the
requests in flight are awaited, and every response that arrived is passed on
(and so cached) before the exception propagates.
Repeated identical warnings and errors are logged a few times and then
summarised with a count. When the server returns top logprobs for the first
answer token, the judgment is read from them like the ``hf`` backend's;
otherwise the text is parsed with :func:`vatnb.parsing.parse_single_rating`.
"""

from __future__ import annotations

import logging
import math
import os
import re
import threading
import time
from collections import Counter
from concurrent.futures import ThreadPoolExecutor, as_completed

import numpy as np

from vatnb.elicit.engine import make_judgment, probabilities_to_judgment
from vatnb.parsing import parse_single_rating

log = logging.getLogger(__name__)

# Kept importable from here: the chapters and tests use these names.
from vatnb.credentials import (  # noqa: E402
    DEFAULT_KEY_VARIABLE,
    APIKeyRejectedError,
    SECRET_NAME,
    SECRET_VALUE,
    check_connection_settings,
    redact,
    reject_secret_parameters,
)


class ServerFailedError(RuntimeError):
    """Many items in a row failed after all attempts (5xx, 429, timeouts, connection errors, malformed bodies)."""


class _Cancelled(Exception):
    """Raised inside a worker when the batch was stopped before its request started."""


# Characters of a server's error message kept in log lines and exceptions.
MAX_MESSAGE_CHARS = 300


def _mentions_logprobs(error) -> bool:
    """Return True when a 400 error's message or parameter names logprobs or top_logprobs."""
    text = f"{getattr(error, 'message', '')} {getattr(error, 'param', '')} {getattr(error, 'body', '')}"
    return "logprob" in text.lower()


class RepeatLimitedLog:
    """Log the first ``max_logged`` messages of each kind, count the rest, and summarise them.

    A kind is any hashable key, for example (event, exception name). Safe to
    call from worker threads.
    """

    def __init__(self, logger: logging.Logger, max_logged: int = 3):
        self.logger = logger
        self.max_logged = max_logged
        self._counts: Counter = Counter()
        self._first: dict = {}
        self._lock = threading.Lock()

    def log(self, level: int, kind, message: str, *args) -> None:
        with self._lock:
            self._counts[kind] += 1
            count = self._counts[kind]
            if count == 1:
                self._first[kind] = (level, message % args)
        if count <= self.max_logged:
            self.logger.log(level, message, *args, stacklevel=2)

    def summarise(self) -> None:
        """Log one line per kind that was logged more than ``max_logged`` times, then reset."""
        with self._lock:
            counts, first = dict(self._counts), dict(self._first)
            self._counts.clear()
            self._first.clear()
        for kind, count in counts.items():
            if count > self.max_logged:
                level, text = first[kind]
                self.logger.log(level, "%d times in this batch (the first %d logged above; the first of them: %s)",
                                count, self.max_logged, text)


class RateLimiter:
    """Space request starts at least ``1 / rate`` seconds apart across threads."""

    def __init__(self, rate: float):
        if rate <= 0:
            raise ValueError(f"rate must be positive (requests per second), got {rate!r}")
        self.interval = 1.0 / rate
        self._next = 0.0
        self._lock = threading.Lock()

    def wait(self) -> None:
        with self._lock:
            now = time.monotonic()
            start = max(now, self._next)
            self._next = start + self.interval
        delay = start - time.monotonic()
        if delay > 0:
            time.sleep(delay)


class OpenAIBackend:
    """Likert judgments from an OpenAI-compatible chat completions endpoint.

    Parameters
    ----------
    model
        Model name sent to the server.
    base_url
        API root, for example ``http://127.0.0.1:8000/v1`` for a local vLLM
        server; None uses the client's default.
    key_variable
        Name of the environment variable that contains the API key.
    concurrency, rate
        Parallel requests and maximum request starts per second.
    max_attempts, backoff, timeout
        Attempts per item (first try included), base backoff in seconds
        (doubled per retry), and per-request timeout in seconds.
    use_logprobs
        Ask for top logprobs. When the server responds with HTTP 400 and a
        message that names logprobs, or rejects the request with 400 but
        accepts it without logprobs, logprobs stay off from then on. A 400
        that recurs without logprobs fails that item as a bad request.
    max_consecutive_failures
        Items in a row (in the order they finish) that may fail after all
        attempts with a retryable error before :meth:`judge` stops with
        :class:`ServerFailedError`. None means twice ``concurrency``. A
        success resets the count, and the last item never triggers the stop.
    """

    name = "openai"
    commit_each_item = True

    def __init__(self, model: str, base_url: str | None = None, key_variable: str = DEFAULT_KEY_VARIABLE,
                 concurrency: int = 4, rate: float = 5.0, max_attempts: int = 5, backoff: float = 1.0,
                 timeout: float = 60.0, temperature: float = 0.0, max_tokens: int = 8,
                 use_logprobs: bool = True, max_consecutive_failures: int | None = None):
        import openai

        key = os.environ.get(key_variable)
        if not key:
            raise ValueError(
                f"environment variable {key_variable} is not set; export the API key there "
                "(for a local server without authentication any placeholder works)"
            )
        check_connection_settings(key, key_variable, base_url)
        if int(concurrency) < 1 or int(max_attempts) < 1:
            raise ValueError(f"concurrency and max_attempts must be >= 1, got {concurrency}, {max_attempts}")
        if max_consecutive_failures is None:
            max_consecutive_failures = 2 * int(concurrency)
        if int(max_consecutive_failures) < 1:
            raise ValueError(f"max_consecutive_failures must be >= 1 or None, got {max_consecutive_failures!r}")
        self.max_consecutive_failures = int(max_consecutive_failures)
        self.model = str(model)
        self.base_url = base_url
        self.batch_size = int(concurrency) * 8
        self.concurrency = int(concurrency)
        self.limiter = RateLimiter(rate)
        self.max_attempts = int(max_attempts)
        self.backoff = float(backoff)
        self.temperature = float(temperature)
        self.max_tokens = int(max_tokens)
        self.use_logprobs = bool(use_logprobs)
        self._logprobs_lock = threading.Lock()
        self._openai = openai
        self.key_variable = key_variable
        self._client = openai.OpenAI(api_key=key, base_url=base_url, timeout=timeout, max_retries=0)
        self._retried = 0
        self._stop = threading.Event()
        self._repeats = RepeatLimitedLog(log)

    def settings(self) -> dict:
        return {"temperature": self.temperature, "max_tokens": self.max_tokens,
                "base_url": self.base_url or "default"}

    def _retryable(self, error: Exception) -> bool:
        openai = self._openai
        if isinstance(error, ValueError):
            # A malformed response body (json.JSONDecodeError); the server may recover.
            return True
        if isinstance(error, (openai.APITimeoutError, openai.APIConnectionError, openai.RateLimitError)):
            return True
        return isinstance(error, openai.APIStatusError) and error.status_code >= 500

    def _request(self, prompt: str):
        arguments = dict(model=self.model, messages=[{"role": "user", "content": prompt}],
                         temperature=self.temperature, max_tokens=self.max_tokens)
        create = self._client.chat.completions.create
        if not self.use_logprobs:
            return create(**arguments)
        try:
            return create(**arguments, logprobs=True, top_logprobs=20)
        except self._openai.BadRequestError as error:
            rejection = error
        if _mentions_logprobs(rejection):
            self._stop_logprobs("it rejected a logprobs request", rejection)
            return create(**arguments)
        # A 400 that does not name logprobs may still be caused by them, so the request is
        # sent once more without them. A second 400 propagates as a bad request.
        response = create(**arguments)
        self._stop_logprobs("it rejected a logprobs request and accepted it without logprobs", rejection)
        return response

    def _stop_logprobs(self, reason: str, error) -> None:
        with self._logprobs_lock:
            if not self.use_logprobs:
                return
            self.use_logprobs = False
        log.warning("continuing without logprobs: the server at %s responded with HTTP 400 (%s) because %s",
                    self._server(), self._server_message(error), reason)

    def _server(self) -> str:
        return self.base_url or str(self._client.base_url)

    def _server_message(self, error) -> str:
        """Return the server's error message, shortened and with the API key masked."""
        body = getattr(error, "body", None)
        text = body.get("message") if isinstance(body, dict) else None
        text = str(text or getattr(error, "message", None) or error)
        text = redact(text, [self._client.api_key or ""])
        return text if len(text) <= MAX_MESSAGE_CHARS else text[:MAX_MESSAGE_CHARS] + "..."

    def _describe(self, error) -> str:
        status = getattr(error, "status_code", None)
        prefix = f"HTTP {status}, " if status is not None else ""
        return f"{prefix}{type(error).__name__}: {self._server_message(error)}"

    def _judge_one(self, prompt: str, points: int) -> tuple[dict, str | None]:
        """Return the judgment and, when the item failed after all attempts, a description of the last error."""
        for attempt in range(1, self.max_attempts + 1):
            self.limiter.wait()
            if self._stop.is_set():
                raise _Cancelled
            try:
                response = self._request(prompt)
                return self._read(response, points), None
            except Exception as error:  # noqa: BLE001 - classified below, re-raised if not retryable
                name = type(error).__name__
                if isinstance(error, (self._openai.AuthenticationError, self._openai.PermissionDeniedError)):
                    self._stop.set()
                    raise self._key_rejected(error) from None
                if not self._retryable(error):
                    if isinstance(error, self._openai.APIError):
                        self._repeats.log(logging.ERROR, ("failed", name),
                                          "request failed without retry (%s)", self._describe(error))
                        # A 404 or 400 that repeats for every item counts toward the early stop.
                        return make_judgment(status="failed", reason=name), self._describe(error)
                    raise
                if attempt == self.max_attempts:
                    self._repeats.log(logging.ERROR, ("exhausted", name),
                                      "request failed after %d attempts (%s)", attempt, self._describe(error))
                    return make_judgment(status="failed", reason=name), self._describe(error)
                delay = self.backoff * 2 ** (attempt - 1)
                self._retried += 1
                self._repeats.log(logging.WARNING, ("retry", name),
                                  "retrying in %.2f s after %s (attempt %d of %d)",
                                  delay, name, attempt, self.max_attempts)
                if self._stop.wait(delay):
                    raise _Cancelled from None
        raise AssertionError("unreachable")

    def _key_rejected(self, error) -> APIKeyRejectedError:
        """Build the error for a 401 or 403. It leaves out the key and the server's message."""
        server = self._server()
        status = getattr(error, "status_code", None)
        if isinstance(error, self._openai.PermissionDeniedError):
            advice = f"check that the key has access to the model {self.model!r}"
        else:
            advice = "check the key"
        return APIKeyRejectedError(
            f"the server at {server} rejected the API key read from ${self.key_variable} "
            f"(HTTP {status}, {type(error).__name__}): {advice}. No further requests were sent, "
            "and the judgments received so far are kept."
        )

    def _read(self, response, points: int) -> dict:
        choice = response.choices[0] if response.choices else None
        if choice is None:
            return make_judgment(reason="empty_response")
        logprobs = getattr(choice, "logprobs", None)
        content = getattr(logprobs, "content", None) if logprobs is not None else None
        if content:
            probabilities = np.zeros(points)
            for candidate in content[0].top_logprobs or []:
                token = candidate.token.strip()
                if token.isdigit() and 1 <= int(token) <= points:
                    probabilities[int(token) - 1] += math.exp(candidate.logprob)
            if probabilities.sum() > 0:
                return probabilities_to_judgment(probabilities)
        text = choice.message.content if choice.message else None
        parsed = parse_single_rating(text, points=points)
        if parsed.rating is None:
            return make_judgment(reason=",".join(sorted(parsed.reasons)) or "no_rating")
        return make_judgment(rating=parsed.rating)

    def judge(self, items: list[dict], points: int, on_judgment) -> None:
        """Request one judgment per item and call ``on_judgment(index, judgment)`` as each arrives.

        Raises
        ------
        APIKeyRejectedError
            At the first HTTP 401 or 403.
        ServerFailedError
            When ``max_consecutive_failures`` items in a row failed after all
            attempts and more items remain.
        KeyboardInterrupt
            On an interrupt (Ctrl-C).

        On each of these, the queued requests are cancelled, and the judgments
        of the requests in flight are awaited and passed to ``on_judgment``
        before the exception propagates.
        """
        self._stop.clear()
        pool = ThreadPoolExecutor(max_workers=self.concurrency)
        futures = {}
        passed = set()
        failures_in_row = 0
        try:
            for index, item in enumerate(items):
                futures[pool.submit(self._judge_one, item["prompt"], points)] = index
            for future in as_completed(futures):
                try:
                    judgment, last_error = future.result()
                except _Cancelled:
                    # Another worker stopped the batch (a rejected key). Futures that finish
                    # together come out in any order, so its error is raised when its turn comes.
                    continue
                on_judgment(futures[future], judgment)
                passed.add(future)
                failures_in_row = failures_in_row + 1 if last_error is not None else 0
                if failures_in_row >= self.max_consecutive_failures and len(passed) < len(futures):
                    raise self._server_failed(failures_in_row, last_error, len(futures) - len(passed))
        except (KeyboardInterrupt, APIKeyRejectedError, ServerFailedError) as error:
            self._stop.set()
            pool.shutdown(wait=False, cancel_futures=True)
            in_flight = sum(1 for future in futures if future.running())
            if isinstance(error, KeyboardInterrupt):
                log.warning("interrupted: cancelled the queued requests, waiting for the %d in flight "
                            "(interrupt again to stop without their answers)", in_flight)
            pool.shutdown(wait=True)
            self._pass_finished(futures, passed, on_judgment)
            raise
        finally:
            self._stop.set()
            pool.shutdown(wait=False, cancel_futures=True)
            self._repeats.summarise()

    def _server_failed(self, count: int, last_error: str, remaining: int) -> ServerFailedError:
        return ServerFailedError(
            f"the server at {self._server()} failed {count} requests in a row, each after "
            f"all its attempts (last error: {last_error}), so the run stopped with "
            f"{remaining} items unfinished. The judgments received so far, including those of the "
            "requests in flight, are kept. Check that the server is running and can serve the "
            f"model {self.model!r}, then rerun, which requests only the missing judgments."
        )

    @staticmethod
    def _pass_finished(futures: dict, passed: set, on_judgment) -> None:
        """Pass on the judgments that arrived but were not passed on yet, so they are cached."""
        for future, index in futures.items():
            if future in passed or not future.done() or future.cancelled() or future.exception():
                continue
            on_judgment(index, future.result()[0])
