"""Elicitation engine: cache, backends, log-prob reading, loopback OpenAI server, kill and resume."""

from __future__ import annotations

import json
import logging
import os
import signal
import sqlite3
import subprocess
import sys
import textwrap
import threading
import time
from collections import Counter
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from vatnb.elicit import (
    JudgmentCache,
    ReplayBackend,
    ReplayMissError,
    SimulatedBackend,
    elicit,
    probabilities_to_judgment,
    unreadable_counts,
)
from vatnb.elicit.openai_backend import OpenAIBackend, reject_secret_parameters

SECRET = "sk-test-0123456789abcdefSECRET"


def _items(n: int, condition: str = "pre") -> pd.DataFrame:
    return pd.DataFrame(
        {
            "condition": condition,
            "sample_id": [f"s{i // 2}" for i in range(n)],
            "scene_id": [f"s{i // 2}" for i in range(n)],
            "micro_value": ["Wealth", "Helpful"] * (n // 2),
            "value": ["Power", "Benevolence"] * (n // 2),
            "sign": 1,
            "scale_points": 5,
            "scale_descending": False,
            "prompt": [f"item {i}: how likely? Answer 1-5." for i in range(n)],
        }
    )


# ---------------------------------------------------------------------------
# Judgment reading and the cache
# ---------------------------------------------------------------------------


def test_probabilities_to_judgment():
    # p = (0.1, 0.1, 0.2, 0.4, 0.0): mass 0.8, argmax 4,
    # expected (0.1 + 0.2 + 0.6 + 1.6) / 0.8 = 3.125.
    judgment = probabilities_to_judgment([0.1, 0.1, 0.2, 0.4, 0.0])
    assert judgment["rating"] == 4
    assert judgment["expected_rating"] == pytest.approx(3.125)
    assert judgment["valid_mass"] == pytest.approx(0.8)
    assert probabilities_to_judgment([0, 0, 0, 0, 0])["status"] == "unread"


class CountingBackend:
    name = "counting"
    model = "m"
    batch_size = 4

    def __init__(self):
        self.calls = 0

    def settings(self):
        return {"temperature": 0}

    def judge(self, items, points, on_judgment):
        for index, item in enumerate(items):
            self.calls += 1
            number = int(item["prompt"].split()[1].rstrip(":"))
            rating = None if number % 7 == 0 else 1 + number % 5
            on_judgment(index, probabilities_to_judgment(np.eye(5)[rating - 1]) if rating else
                        {"rating": None, "expected_rating": None, "valid_mass": None,
                         "status": "unread", "reason": "no_rating"})


def test_rerun_makes_zero_calls(tmp_path):
    items = _items(20)
    backend = CountingBackend()
    with JudgmentCache(tmp_path / "cache.sqlite") as cache:
        first = elicit(items, backend, cache, progress=False)
        assert backend.calls == 20
        again = elicit(items, backend, cache, progress=False)
    assert backend.calls == 20
    assert again.attrs["calls"] == 0
    pd.testing.assert_series_equal(first["rating"], again["rating"])


def test_unreadable_counted_not_imputed(tmp_path):
    records = elicit(_items(20), CountingBackend(), None, progress=False)
    # items 0, 7 and 14 are unreadable (number % 7 == 0).
    assert records["rating"].isna().sum() == 3
    counts = unreadable_counts(records)
    assert int(counts.loc[0, "unread"]) == 3
    assert int(counts.loc[0, "judgments"]) == 20


def test_cache_key_depends_on_settings(tmp_path):
    items = _items(4)
    backend = CountingBackend()
    with JudgmentCache(tmp_path / "c.sqlite") as cache:
        elicit(items, backend, cache, progress=False)
        backend.settings = lambda: {"temperature": 1}
        elicit(items, backend, cache, progress=False)
        assert len(cache) == 8
    assert backend.calls == 8


def test_replay_edited_file_not_served_from_cache(tmp_path):
    items = _items(6)
    recorded = elicit(items, CountingBackend(), None, progress=False)
    path = tmp_path / "records.csv"
    recorded.to_csv(path, index=False)
    with JudgmentCache(tmp_path / "c.sqlite") as cache:
        first = elicit(items, ReplayBackend(path), cache, progress=False)
        edited = recorded.assign(rating=recorded["rating"].map({1: 5, 2: 4, 3: 3, 4: 2, 5: 1}))
        edited.to_csv(path, index=False)
        second = elicit(items, ReplayBackend(path), cache, progress=False)
    np.testing.assert_array_equal(first["rating"], recorded["rating"])
    np.testing.assert_array_equal(second["rating"], edited["rating"])


def test_replay_rejects_non_table_file(tmp_path):
    path = tmp_path / "judgments.sqlite"
    path.write_bytes(b"SQLite format 3\x00\xdf\xff")
    with pytest.raises(ValueError, match="not a .csv or .parquet file"):
        ReplayBackend(path)
    binary = tmp_path / "records.csv"
    binary.write_bytes(b"\xdf\xff\x00\x01")
    with pytest.raises(ValueError, match="could not be read"):
        ReplayBackend(binary)


def test_replay_backend(tmp_path):
    items = _items(6)
    recorded = elicit(items, CountingBackend(), None, progress=False)
    path = tmp_path / "records.csv"
    recorded.to_csv(path, index=False)
    replayed = elicit(items, ReplayBackend(path), None, progress=False)
    np.testing.assert_array_equal(replayed["rating"], recorded["rating"])
    with pytest.raises(ReplayMissError, match="no judgment"):
        elicit(_items(6, condition="other"), ReplayBackend(path), None, progress=False)


def test_simulated_backend_records(tmp_path):
    items = pd.concat([_items(40, "pre"), _items(40, "k=4")], ignore_index=True)
    backend = SimulatedBackend(items, {"k=4": ("Power", "suppress", 4)}, seed=1)
    with JudgmentCache(tmp_path / "c.sqlite") as cache:
        records = elicit(items, backend, cache, progress=False)
        assert elicit(items, backend, cache, progress=False).attrs["calls"] == 0
    assert records["rating"].between(1, 5).all()
    assert backend.truth.gain_vectors["k=4"]["Power"] < 0
    rebuilt = SimulatedBackend(items, {"k=4": ("Power", "suppress", 4)}, seed=1)
    assert rebuilt.model == backend.model
    np.testing.assert_array_equal(elicit(items, rebuilt, None, progress=False)["rating"],
                                  records["rating"])


# ---------------------------------------------------------------------------
# HF backend on a tiny local model
# ---------------------------------------------------------------------------


@pytest.fixture(scope="module")
def tiny_model(tmp_path_factory):
    pytest.importorskip("transformers")
    from vatnb.elicit.hf import load_model
    from vatnb.tinymodel import tiny_qwen3

    path = tiny_qwen3(tmp_path_factory.mktemp("tiny") / "model")
    model, tokenizer = load_model(str(path), device="cpu", dtype="float32")
    return path, model, tokenizer


def test_batched_equals_single(tiny_model):
    from vatnb.elicit.hf import likert_probabilities

    _, model, tokenizer = tiny_model
    prompts = ["Short.", "A much longer prompt about a market scene where people trade. Rate 1-5.",
               "Medium length prompt here, answer now."]
    batched = likert_probabilities(model, tokenizer, prompts, batch_size=3)
    single = np.vstack([likert_probabilities(model, tokenizer, [p], batch_size=1) for p in prompts])
    assert batched.shape == (3, 5)
    np.testing.assert_allclose(batched, single, atol=1e-5, rtol=0)
    assert (batched.sum(axis=1) <= 1.0 + 1e-6).all()


def test_shared_prefix_reuse_equals_full_prompts(tiny_model):
    from vatnb.elicit.hf import (
        MIN_SHARED_PREFIX_TOKENS,
        chat_texts,
        likert_probabilities,
        shared_prefix_length,
    )

    _, model, tokenizer = tiny_model
    prefix = ("You are taking part in a survey about what matters to you. Read the scene "
              "and choose the action that you would take. " * 3)
    questions = ["Rate 1-5.", "A friend asks you for help moving on the weekend. Rate 1-5.",
                 "Your manager offers you a promotion in another city. How likely? Rate 1-5.",
                 "Yes or no?", "A neighbour plays loud music late at night. Rate 1-5."]
    prompts = [prefix + question for question in questions]
    encoded = tokenizer(chat_texts(tokenizer, prompts), add_special_tokens=False)["input_ids"]
    assert shared_prefix_length(encoded) >= MIN_SHARED_PREFIX_TOKENS
    full = np.vstack([
        likert_probabilities(model, tokenizer, [p], batch_size=1, reuse_shared_prefix=False)
        for p in prompts
    ])
    for batch_size in (1, 2, 5):
        reused = likert_probabilities(model, tokenizer, prompts, batch_size=batch_size)
        np.testing.assert_allclose(reused, full, atol=1e-5, rtol=0)
    # Rows come back in prompt order although they are scored by length.
    assert not np.allclose(full[0], full[1], atol=1e-7)


def test_shared_prefix_length_leaves_a_token():
    from vatnb.elicit.hf import shared_prefix_length

    assert shared_prefix_length([[1, 2, 3, 4], [1, 2, 5], [1, 2, 3]]) == 2
    assert shared_prefix_length([[1, 2, 3], [1, 2, 3]]) == 2
    assert shared_prefix_length([[7, 2], [1, 2]]) == 0


def test_empty_prompt_rejected(tiny_model):
    from vatnb.elicit.hf import likert_probabilities

    _, model, tokenizer = tiny_model
    with pytest.raises(ValueError, match="prompt 1 is empty"):
        likert_probabilities(model, tokenizer, ["Rate 1-5.", ""], use_chat_template=False)


def test_hf_backend_judgments(tiny_model, tmp_path):
    from vatnb.elicit.hf import HFBackend

    path, model, tokenizer = tiny_model
    backend = HFBackend(str(path), batch_size=4, model=model, tokenizer=tokenizer)
    records = elicit(_items(6), backend, JudgmentCache(tmp_path / "c.sqlite"), progress=False)
    assert records["rating"].between(1, 5).all()
    assert records["valid_mass"].between(0, 1).all()
    assert records["expected_rating"].between(1, 5).all()


def test_weights_fingerprint_follows_files(tmp_path):

    from vatnb.elicit.hf import local_weights_fingerprint

    (tmp_path / "config.json").write_text("{}")
    weights = tmp_path / "model.safetensors"
    weights.write_bytes(b"0" * 16)
    (tmp_path / "README.md").write_text("notes")
    first = local_weights_fingerprint(tmp_path)
    (tmp_path / "README.md").write_text("other notes")
    assert local_weights_fingerprint(tmp_path) == first
    status = weights.stat()
    os.utime(weights, ns=(status.st_atime_ns, status.st_mtime_ns + 1_000_000_000))
    assert local_weights_fingerprint(tmp_path) != first


def test_hf_settings_name_local_weights(tiny_model):
    from vatnb.elicit.hf import HFBackend, local_weights_fingerprint

    path, model, tokenizer = tiny_model
    backend = HFBackend(str(path), model=model, tokenizer=tokenizer)
    assert backend.settings()["weights"] == local_weights_fingerprint(Path(path))
    hub = HFBackend("Qwen/Qwen3-4B-Instruct-2507", model=model, tokenizer=tokenizer)
    assert "weights" not in hub.settings()


@pytest.mark.parametrize("batch_size", [-1, 0, 2.5, "x", None])
def test_hf_batch_size_checked_before_loading(batch_size):
    from vatnb.elicit.hf import HFBackend

    # The folder does not exist, so reaching the loader would raise FileNotFoundError.
    with pytest.raises(ValueError, match="batch_size must be a whole number") as raised:
        HFBackend("/nonexistent/model", batch_size=batch_size)
    assert repr(batch_size) in str(raised.value)


def test_hf_negative_batch_size_rejected(tiny_model):
    from vatnb.elicit.hf import HFBackend

    path, model, tokenizer = tiny_model
    with pytest.raises(ValueError, match="got -1"):
        HFBackend(str(path), batch_size=-1, model=model, tokenizer=tokenizer)


class SkippingBackend(CountingBackend):
    """Judges only the items at even positions of each call, like a backend with a broken loop."""

    name = "skipping"

    def judge(self, items, points, on_judgment):
        super().judge(items[::2], points, lambda index, judgment: on_judgment(2 * index, judgment))


def test_elicit_rejects_missing_judgments(tmp_path):
    with JudgmentCache(tmp_path / "c.sqlite") as cache:
        with pytest.raises(RuntimeError, match="returned no judgment for 5 of 10 items") as raised:
            elicit(_items(10), SkippingBackend(), cache, progress=False)
        assert len(cache) == 5
    message = str(raised.value)
    assert "backend skipping (model m)" in message
    assert "rows 1, 3, 5, 7, 9" in message
    assert "batch_size=4" in message


def test_hf_judge_without_judgments_rejected(tiny_model):
    from vatnb.elicit.hf import HFBackend

    path, model, tokenizer = tiny_model
    backend = HFBackend(str(path), batch_size=2, model=model, tokenizer=tokenizer)
    # A batch size changed after construction makes judge() skip every item.
    backend.batch_size = -1
    with pytest.raises(RuntimeError, match="backend hf .* no judgment for 4 of 4 items"):
        elicit(_items(4), backend, None, progress=False)


def test_missing_model_folder_named(tmp_path):
    from vatnb.elicit.hf import HFBackend

    for model_id in ("/nonexistent/model", "./relative/model", "a/b/c", str(tmp_path / "absent")):
        with pytest.raises(FileNotFoundError, match="does not exist") as raised:
            HFBackend(model_id)
        assert f"model folder {model_id} does not exist" in str(raised.value)


def test_empty_model_folder_lists_files(tmp_path):
    from vatnb.elicit.hf import HFBackend

    folder = tmp_path / "model"
    folder.mkdir()
    with pytest.raises(FileNotFoundError) as raised:
        HFBackend(str(folder))
    message = str(raised.value)
    assert f"model folder {folder} lacks config.json, weights and tokenizer files" in message
    assert "it contains: nothing" in message
    assert "tokenizer.json" in message


def test_model_folder_without_weights(tmp_path):
    from vatnb.elicit.hf import HFBackend

    folder = tmp_path / "model"
    folder.mkdir()
    (folder / "config.json").write_text("{}")
    (folder / "tokenizer.json").write_text("{}")
    with pytest.raises(FileNotFoundError, match="lacks weights .it contains: config.json, tokenizer.json"):
        HFBackend(str(folder))


def test_model_path_to_file_rejected(tmp_path):
    from vatnb.elicit.hf import HFBackend

    file = tmp_path / "model.safetensors"
    file.write_bytes(b"0")
    with pytest.raises(NotADirectoryError, match="is a file, not a folder"):
        HFBackend(str(file))


def test_model_check_leaves_hub_ids(tmp_path, monkeypatch):
    from vatnb.elicit.hf import check_local_model

    monkeypatch.chdir(tmp_path)
    for hub_id in ("Qwen/Qwen3-4B-Instruct-2507", "gpt2", "org_1/model-v2.5"):
        assert check_local_model(hub_id) == hub_id
    monkeypatch.setenv("HOME", str(tmp_path))
    folder = tmp_path / "model"
    folder.mkdir()
    for name in ("config.json", "model.safetensors", "tokenizer.json"):
        (folder / name).write_text("{}")
    assert check_local_model("~/model") == str(folder)


# ---------------------------------------------------------------------------
# OpenAI-compatible backend against a loopback server
# ---------------------------------------------------------------------------


class FakeChatServer:
    """A loopback chat-completions server: scripted failures, counts requests per prompt.

    ``fail_first`` lists the statuses of the first responses. ``fail_after``
    (count, status) responds to every request after the first ``count`` with
    that status. ``reject_logprobs`` is the message of an HTTP 400 response to
    each request that includes logprobs. In error messages, "{authorization}"
    is replaced by the request's Authorization header.
    """

    def __init__(self, delay=0.0, fail_first=(), logprobs=False, on_request=None, fail_after=None,
                 reject_logprobs=None, error_message="try later"):
        # on_request(total) runs in the handler thread after each request is counted.
        self.on_request = on_request
        self.fail_after = fail_after
        self.reject_logprobs = reject_logprobs
        self.error_message = error_message
        self.delay = delay
        self.failures = list(fail_first)
        self.logprobs = logprobs
        self.requests = Counter()
        self.headers_seen = []
        self.lock = threading.Lock()
        server = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args):
                pass

            def do_POST(self):
                body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
                prompt = body["messages"][-1]["content"]
                with server.lock:
                    server.requests[prompt] += 1
                    server.headers_seen.append(self.headers.get("Authorization", ""))
                    failure = server.failures.pop(0) if server.failures else None
                    total = sum(server.requests.values())
                if server.fail_after is not None and total > server.fail_after[0]:
                    failure = server.fail_after[1]
                message = server.error_message
                if failure is None and server.reject_logprobs is not None and body.get("logprobs"):
                    failure, message = 400, server.reject_logprobs
                message = message.replace("{authorization}", self.headers.get("Authorization", ""))
                if server.on_request is not None:
                    server.on_request(total)
                time.sleep(server.delay)
                if failure == "malformed":
                    self._send(200, b"{not json")
                    return
                if failure is not None:
                    self._send(failure, json.dumps({"error": {"message": message}}).encode())
                    return
                number = int(prompt.split()[1].rstrip(":"))
                answer = str(1 + number % 5)
                choice = {"index": 0, "finish_reason": "stop",
                          "message": {"role": "assistant", "content": f"Rating: {answer}"}}
                if server.logprobs and body.get("logprobs"):
                    top = [{"token": answer, "logprob": np.log(0.7), "bytes": None},
                           {"token": "3", "logprob": np.log(0.2), "bytes": None}]
                    choice["logprobs"] = {"content": [{"token": answer, "logprob": np.log(0.7),
                                                       "bytes": None, "top_logprobs": top}]}
                payload = {"id": "x", "object": "chat.completion", "created": 0, "model": body["model"],
                           "choices": [choice]}
                self._send(200, json.dumps(payload).encode())

            def _send(self, status, data):
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}/v1"
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)

    def __enter__(self):
        self.thread.start()
        return self

    def __exit__(self, *exc):
        self.httpd.shutdown()
        self.httpd.server_close()


def test_openai_retries_and_parses(monkeypatch, caplog):
    monkeypatch.setenv("VATNB_TEST_KEY", SECRET)
    with FakeChatServer(fail_first=[429, 503]) as server:
        backend = OpenAIBackend("fake-model", base_url=server.url, key_variable="VATNB_TEST_KEY",
                                concurrency=1, rate=1000, backoff=0.01, use_logprobs=False)
        with caplog.at_level(logging.WARNING):
            records = elicit(_items(4), backend, None, progress=False)
    # item i answers 1 + i % 5; the 429 and 503 were retried.
    assert records["rating"].tolist() == [1.0, 2.0, 3.0, 4.0]
    assert sum(server.requests.values()) == 6
    assert "retrying" in caplog.text
    assert SECRET not in caplog.text
    assert server.headers_seen[0] == f"Bearer {SECRET}"


def test_openai_reads_logprobs():
    os.environ.setdefault("VATNB_TEST_KEY_LP", "placeholder")
    with FakeChatServer(logprobs=True) as server:
        backend = OpenAIBackend("fake-model", base_url=server.url, key_variable="VATNB_TEST_KEY_LP",
                                concurrency=2, rate=1000)
        records = elicit(_items(2), backend, None, progress=False)
    # item 1 answers 2 with p=0.7 and "3" has p=0.2: expected (1.4 + 0.6) / 0.9.
    assert records.loc[1, "rating"] == 2
    assert records.loc[1, "valid_mass"] == pytest.approx(0.9)
    assert records.loc[1, "expected_rating"] == pytest.approx(2.0 / 0.9)


def test_openai_malformed_body_fails_not_cached(monkeypatch, tmp_path):
    monkeypatch.setenv("VATNB_TEST_KEY", SECRET)
    with FakeChatServer(fail_first=["malformed"] * 10) as server:
        backend = OpenAIBackend("fake-model", base_url=server.url, key_variable="VATNB_TEST_KEY",
                                concurrency=1, rate=1000, max_attempts=2, backoff=0.01,
                                use_logprobs=False)
        with JudgmentCache(tmp_path / "c.sqlite") as cache:
            records = elicit(_items(2), backend, cache, progress=False)
            assert len(cache) == 0
    assert records["rating"].isna().all()
    assert (records["status"] == "failed").all()
    assert sum(server.requests.values()) == 4


def test_openai_missing_key_rejected(monkeypatch):
    monkeypatch.delenv("VATNB_ABSENT_KEY", raising=False)
    with pytest.raises(ValueError, match="VATNB_ABSENT_KEY is not set"):
        OpenAIBackend("m", base_url="http://127.0.0.1:9/v1", key_variable="VATNB_ABSENT_KEY")


def test_secret_parameters_rejected():
    with pytest.raises(ValueError, match="environment variable"):
        reject_secret_parameters({"api_key": "abc123"})
    with pytest.raises(ValueError, match="looks like an API key"):
        reject_secret_parameters({"model": SECRET})
    reject_secret_parameters({"api_key_variable": "OPENAI_API_KEY", "model": "gpt-4o-mini", "api_key": ""})


KILLED_RUN = textwrap.dedent(
    """
    import sys
    import pandas as pd
    sys.path.insert(0, {root!r})
    from tests.test_elicit import _items
    from vatnb.elicit import JudgmentCache, elicit
    from vatnb.elicit.openai_backend import OpenAIBackend
    backend = OpenAIBackend("fake-model", base_url={url!r}, key_variable="VATNB_TEST_KEY",
                            concurrency=2, rate=1000, use_logprobs=False)
    records = elicit(_items(40), backend, JudgmentCache({cache!r}), progress=False)
    records.to_csv({out!r}, index=False)
    """
)


def test_killed_run_resumes_exactly_once(tmp_path):
    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    cache_path = tmp_path / "cache.sqlite"
    out = tmp_path / "records.csv"
    environment = {**os.environ, "VATNB_TEST_KEY": SECRET}
    with FakeChatServer(delay=0.05) as server:
        script = KILLED_RUN.format(root=root, url=server.url, cache=str(cache_path), out=str(out))
        log_path = tmp_path / "run.log"
        with open(log_path, "w") as log_file:
            process = subprocess.Popen([sys.executable, "-c", script], env=environment,
                                       stdout=log_file, stderr=subprocess.STDOUT)
            deadline = time.monotonic() + 120
            while time.monotonic() < deadline:
                if cache_path.exists():
                    try:
                        with sqlite3.connect(cache_path) as connection:
                            stored = connection.execute("SELECT COUNT(*) FROM judgments").fetchone()[0]
                    except sqlite3.OperationalError:
                        stored = 0
                    if stored >= 10:
                        break
                time.sleep(0.05)
            process.send_signal(signal.SIGKILL)
            process.wait()
        assert not out.exists()
        first_requests = sum(server.requests.values())
        assert 10 <= first_requests < 40
        with open(log_path, "a") as log_file:
            subprocess.run([sys.executable, "-c", script], env=environment, check=True,
                           stdout=log_file, stderr=subprocess.STDOUT, timeout=300)
    records = pd.read_csv(out)
    assert len(records) == 40
    assert records["key"].is_unique
    assert records["rating"].notna().all()
    assert set(server.requests) == set(_items(40)["prompt"])
    # Only requests in flight at the kill (at most the concurrency, 2) can repeat.
    assert sum(server.requests.values()) <= 40 + 2
    for path in (cache_path, log_path, out):
        assert SECRET.encode() not in path.read_bytes()
    for sidecar in tmp_path.glob("cache.sqlite*"):
        assert SECRET.encode() not in sidecar.read_bytes()
