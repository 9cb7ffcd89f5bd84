"""OpenAI backend errors: rejected keys, repeated failures, bad requests and interrupts, against a loopback server."""

from __future__ import annotations

import logging
import signal
import threading
import time

import pytest
from test_elicit import SECRET, FakeChatServer, _items

from vatnb.elicit import JudgmentCache, elicit
from vatnb.elicit.openai_backend import APIKeyRejectedError, OpenAIBackend, ServerFailedError

CONCURRENCY = 2


def _backend(server, **options) -> OpenAIBackend:
    settings = dict(concurrency=CONCURRENCY, rate=1000, backoff=0.01, use_logprobs=False)
    settings.update(options)
    return OpenAIBackend("fake-model", base_url=server.url, key_variable="VATNB_TEST_KEY", **settings)


def test_rejected_key_stops_run(monkeypatch, tmp_path, caplog):
    monkeypatch.setenv("VATNB_TEST_KEY", SECRET)
    cache_path = tmp_path / "judgments.sqlite"
    with FakeChatServer() as server, JudgmentCache(cache_path) as cache:
        elicit(_items(40).head(10), _backend(server), cache, progress=False)
    assert sum(server.requests.values()) == 10

    with FakeChatServer(fail_first=[401] * 1000) as server, JudgmentCache(cache_path) as cache:
        with caplog.at_level(logging.WARNING), pytest.raises(APIKeyRejectedError) as raised:
            elicit(_items(40), _backend(server), cache, progress=False)
        assert len(cache) == 10
    message = str(raised.value)
    assert "rejected the API key read from $VATNB_TEST_KEY" in message
    assert "HTTP 401" in message
    assert server.url in message
    assert SECRET not in message
    assert SECRET not in caplog.text
    # Only the requests started before the first 401 arrived can reach the server.
    assert sum(server.requests.values()) <= CONCURRENCY
    assert "request failed without retry" not in caplog.text


def test_permission_denied_stops_run(monkeypatch):
    monkeypatch.setenv("VATNB_TEST_KEY", SECRET)
    with FakeChatServer(fail_first=[403] * 1000) as server:
        with pytest.raises(APIKeyRejectedError, match="HTTP 403") as raised:
            elicit(_items(20), _backend(server), None, progress=False)
    assert "has access to the model 'fake-model'" in str(raised.value)
    assert sum(server.requests.values()) <= CONCURRENCY


def test_repeated_failures_summarised(monkeypatch, caplog):
    monkeypatch.setenv("VATNB_TEST_KEY", SECRET)
    with FakeChatServer(fail_first=[400] * 1000) as server:
        with caplog.at_level(logging.WARNING, logger="vatnb.elicit.openai_backend"):
            records = elicit(_items(20), _backend(server, max_consecutive_failures=100), None, progress=False)
    assert (records["status"] == "failed").all()
    assert sum(server.requests.values()) == 20
    failures = [record for record in caplog.records
                if record.getMessage() == "request failed without retry (HTTP 400, BadRequestError: try later)"]
    summaries = [record for record in caplog.records if "20 times in this batch" in record.getMessage()]
    assert len(failures) == 3
    assert len(summaries) == 1
    assert "request failed without retry (HTTP 400, BadRequestError" in summaries[0].getMessage()


def test_failing_server_stops_early(monkeypatch):
    monkeypatch.setenv("VATNB_TEST_KEY", SECRET)
    started = time.monotonic()
    with FakeChatServer(fail_first=[503] * 10_000) as server:
        with pytest.raises(ServerFailedError) as raised:
            elicit(_items(80), _backend(server, max_attempts=3), None, progress=False)
    elapsed = time.monotonic() - started
    message = str(raised.value)
    assert f"the server at {server.url} failed 4 requests in a row" in message
    assert "each after all its attempts" in message
    assert "HTTP 503, InternalServerError: try later" in message
    assert SECRET not in message
    # The default limit is twice the concurrency (4 items); the items in flight add at most
    # CONCURRENCY more, each with 3 attempts.
    assert sum(server.requests.values()) <= (4 + CONCURRENCY) * 3
    assert elapsed < 20


def test_failing_server_keeps_received_judgments(monkeypatch, tmp_path):
    monkeypatch.setenv("VATNB_TEST_KEY", SECRET)
    with FakeChatServer(fail_after=(10, 502)) as server, JudgmentCache(tmp_path / "c.sqlite") as cache:
        with pytest.raises(ServerFailedError, match="failed 3 requests in a row") as raised:
            elicit(_items(40), _backend(server, max_attempts=2, max_consecutive_failures=3), cache,
                   progress=False)
        assert len(cache) == 10
    assert "HTTP 502" in str(raised.value)
    assert "items unfinished" in str(raised.value)


def test_scattered_failures_do_not_stop(monkeypatch):
    monkeypatch.setenv("VATNB_TEST_KEY", SECRET)
    # Items 0, 1 and 2 each receive two 503 responses and fail; the rest succeed.
    with FakeChatServer(fail_first=[503] * 6) as server:
        records = elicit(_items(12), _backend(server, concurrency=1, max_attempts=2,
                                              max_consecutive_failures=4), None, progress=False)
    assert records["status"].tolist() == ["failed"] * 3 + ["full"] * 9
    assert sum(server.requests.values()) == 6 + 9


def test_last_items_failing_return_records(monkeypatch):
    monkeypatch.setenv("VATNB_TEST_KEY", SECRET)
    with FakeChatServer(fail_first=[503] * 100) as server:
        records = elicit(_items(4), _backend(server, concurrency=1, max_attempts=2,
                                             max_consecutive_failures=4), None, progress=False)
    # The fourth failure is the last item, so there is nothing left to save by stopping.
    assert (records["status"] == "failed").all()
    assert sum(server.requests.values()) == 8


@pytest.mark.parametrize("limit", [0, -2])
def test_consecutive_failure_limit_checked(monkeypatch, limit):
    monkeypatch.setenv("VATNB_TEST_KEY", SECRET)
    with pytest.raises(ValueError, match="max_consecutive_failures must be >= 1"):
        OpenAIBackend("m", base_url="http://127.0.0.1:9/v1", key_variable="VATNB_TEST_KEY",
                      max_consecutive_failures=limit)


def test_bad_request_keeps_logprobs(monkeypatch, caplog):
    monkeypatch.setenv("VATNB_TEST_KEY", SECRET)
    with FakeChatServer(fail_first=[400] * 1000, error_message="unknown model") as server:
        backend = _backend(server, use_logprobs=True, max_consecutive_failures=100)
        with caplog.at_level(logging.WARNING, logger="vatnb.elicit.openai_backend"):
            records = elicit(_items(6), backend, None, progress=False)
    assert (records["status"] == "failed").all()
    assert backend.use_logprobs
    assert "logprobs" not in caplog.text
    assert "request failed without retry (HTTP 400, BadRequestError: unknown model)" in caplog.text
    # Each item is sent once with logprobs and once without them.
    assert sum(server.requests.values()) == 12


def test_logprobs_rejection_turns_logprobs_off(monkeypatch, caplog):
    monkeypatch.setenv("VATNB_TEST_KEY", SECRET)
    with FakeChatServer(reject_logprobs="logprobs are not supported for this model") as server:
        backend = _backend(server, use_logprobs=True)
        with caplog.at_level(logging.WARNING, logger="vatnb.elicit.openai_backend"):
            records = elicit(_items(10), backend, None, progress=False)
    assert records["rating"].tolist() == [1 + i % 5 for i in range(10)]
    assert not backend.use_logprobs
    warnings = [record.getMessage() for record in caplog.records if "without logprobs" in record.getMessage()]
    assert len(warnings) == 1
    assert "logprobs are not supported for this model" in warnings[0]
    assert server.url in warnings[0]
    # Only the requests started before the first rejection arrived asked for logprobs.
    assert sum(server.requests.values()) <= 10 + CONCURRENCY


def test_unexplained_400_retried_without_logprobs(monkeypatch, caplog):
    monkeypatch.setenv("VATNB_TEST_KEY", SECRET)
    with FakeChatServer(reject_logprobs="invalid request from {authorization}") as server:
        backend = _backend(server, use_logprobs=True)
        with caplog.at_level(logging.WARNING, logger="vatnb.elicit.openai_backend"):
            records = elicit(_items(10), backend, None, progress=False)
    assert records["rating"].notna().all()
    assert not backend.use_logprobs
    assert "accepted it without logprobs" in caplog.text
    # The server echoed the Authorization header, and the log masks the key.
    assert "invalid request from Bearer <redacted>" in caplog.text
    assert SECRET not in caplog.text


def test_repeated_retries_summarised(monkeypatch, caplog):
    monkeypatch.setenv("VATNB_TEST_KEY", SECRET)
    with FakeChatServer(fail_first=[503] * 10) as server:
        with caplog.at_level(logging.WARNING, logger="vatnb.elicit.openai_backend"):
            records = elicit(_items(10), _backend(server, concurrency=1, max_attempts=20, backoff=0.001),
                             None, progress=False)
    # Item 0 receives the ten 503 responses and succeeds on its eleventh attempt.
    assert records["rating"].notna().all()
    retries = [record for record in caplog.records if record.getMessage().startswith("retrying in")]
    assert len(retries) == 3
    assert "10 times in this batch" in caplog.text


def test_interrupt_cancels_queued_requests(monkeypatch):
    monkeypatch.setenv("VATNB_TEST_KEY", SECRET)
    received: dict[int, dict] = {}
    requests_at_interrupt = []

    with FakeChatServer(delay=0.05) as server:
        def on_judgment(index, judgment):
            received[index] = judgment
            if len(received) == 5 and not requests_at_interrupt:
                requests_at_interrupt.append(sum(server.requests.values()))
                raise KeyboardInterrupt

        items = _items(40).to_dict("records")
        with pytest.raises(KeyboardInterrupt):
            _backend(server).judge(items, 5, on_judgment)
        requests_after_return = sum(server.requests.values())
        time.sleep(0.3)
        requests_later = sum(server.requests.values())

    # Queued requests were cancelled: only those in flight at the interrupt were still sent.
    assert requests_after_return <= requests_at_interrupt[0] + CONCURRENCY
    assert requests_later == requests_after_return
    # Every judgment that arrived was passed on, including those of the requests in flight.
    assert len(received) == requests_after_return


@pytest.fixture
def default_sigint_handler():
    # A process started in the background by a non-interactive shell inherits SIGINT as
    # ignored, and Python then installs no handler, so the test installs the usual one.
    previous = signal.signal(signal.SIGINT, signal.default_int_handler)
    yield
    signal.signal(signal.SIGINT, previous)


def test_sigint_keeps_arrived_answers(monkeypatch, tmp_path, default_sigint_handler):
    monkeypatch.setenv("VATNB_TEST_KEY", SECRET)
    main_thread = threading.main_thread().ident

    def interrupt_after_six(total):
        if total == 6:
            signal.pthread_kill(main_thread, signal.SIGINT)

    with FakeChatServer(delay=0.05, on_request=interrupt_after_six) as server:
        with JudgmentCache(tmp_path / "judgments.sqlite") as cache:
            with pytest.raises(KeyboardInterrupt):
                elicit(_items(40), _backend(server), cache, progress=False)
            stored = len(cache)
        sent = sum(server.requests.values())
    # The signal leaves at most the requests in flight to finish.
    assert sent <= 6 + CONCURRENCY
    assert stored == sent


def test_not_found_for_every_item_stops_early(monkeypatch):
    # A 404 (for example an unknown model) is not retried, but it repeats for every item.
    monkeypatch.setenv("VATNB_TEST_KEY", SECRET)
    with FakeChatServer(fail_first=[404] * 1000, error_message="model does not exist") as server:
        with pytest.raises(ServerFailedError) as raised:
            elicit(_items(80), _backend(server), None, progress=False)
    assert "HTTP 404, NotFoundError: model does not exist" in str(raised.value)
    # Four failures in a row stop the run; requests already started may still be sent.
    assert sum(server.requests.values()) < 20


@pytest.mark.parametrize("key", ["sk-abcdefgh\nX", "clé-secrète-1234"])
def test_unusable_key_rejected_before_requests(monkeypatch, key):
    monkeypatch.setenv("VATNB_TEST_KEY", key)
    with pytest.raises(ValueError, match=r"\$VATNB_TEST_KEY contains whitespace or non-ASCII") as raised:
        OpenAIBackend("m", base_url="http://127.0.0.1:9/v1", key_variable="VATNB_TEST_KEY")
    assert key not in str(raised.value)


def test_base_url_without_scheme_rejected(monkeypatch):
    monkeypatch.setenv("VATNB_TEST_KEY", SECRET)
    with pytest.raises(ValueError, match="base_url must start with http"):
        OpenAIBackend("m", base_url="127.0.0.1:9/v1", key_variable="VATNB_TEST_KEY")


def test_rejected_key_raised_whatever_completion_order(monkeypatch):
    # After a 403 the other workers cancel their items. Futures that finished together come
    # out of as_completed in any order; the cancelled ones must not hide the key error.
    import concurrent.futures

    from vatnb.elicit import openai_backend

    def cancelled_first(futures):
        futures = list(futures)
        concurrent.futures.wait(futures)
        return reversed(futures)

    monkeypatch.setattr(openai_backend, "as_completed", cancelled_first)
    monkeypatch.setenv("VATNB_TEST_KEY", SECRET)
    with FakeChatServer(fail_first=[403] * 1000) as server:
        with pytest.raises(APIKeyRejectedError, match="HTTP 403"):
            elicit(_items(20), _backend(server), None, progress=False)
