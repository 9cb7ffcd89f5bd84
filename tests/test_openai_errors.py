"""OpenAI backend errors: rejected keys, repeated failures and interrupts, against a loopback server."""

from __future__ import annotations

import logging
import signal
import threading
import time

import pytest
from test_elicit import SECRET, FakeChatServer, _items

from vatnb.elicit import JudgmentCache, elicit
from vatnb.elicit.openai_backend import APIKeyRejectedError, OpenAIBackend

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
            records = elicit(_items(20), _backend(server), None, progress=False)
    assert (records["status"] == "failed").all()
    assert sum(server.requests.values()) == 20
    failures = [record for record in caplog.records
                if record.getMessage() == "request failed without retry (BadRequestError)"]
    summaries = [record for record in caplog.records if "20 times in this batch" in record.getMessage()]
    assert len(failures) == 3
    assert len(summaries) == 1
    assert "request failed without retry (BadRequestError)" in summaries[0].getMessage()


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
    # Every answer that arrived was passed on, including those of the requests in flight.
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
