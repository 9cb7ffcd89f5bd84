"""Text backends: a local OpenAI-compatible server, a tiny local HF model, replay, and the cache."""

from __future__ import annotations

import http.server
import json
import logging
import os
import subprocess
import sys
import textwrap
import threading
from collections import Counter
from pathlib import Path

import pytest

from vatnb.textgen import (
    DecodingSettings,
    OpenAICompatibleBackend,
    ReplayBackend,
    ReplayMissError,
    ResponseCache,
    TextGenerationError,
    TextRequest,
    generate_texts,
)

REPOSITORY_ROOT = Path(__file__).resolve().parents[1]
KEY_VARIABLE = "VATNB_TEST_API_KEY"
SECRET = "sk-test-secret-123"


class ScriptedServer:
    """An OpenAI-compatible chat completions server on 127.0.0.1 with scripted failures.

    ``script`` is consumed one entry per request: ``"429"``, ``"500"``,
    ``"400"``, ``"malformed"`` (a 200 with a non-JSON body), ``"hold"`` (never
    answers until ``release`` is set) or ``"ok"``. When the script is empty
    every request gets ``"ok"``. ``requests`` counts requests per prompt and
    ``answered`` counts the successful answers per prompt.
    """

    def __init__(self, script=()):
        self.script = list(script)
        self.requests: Counter = Counter()
        self.answered: Counter = Counter()
        self.holding = threading.Event()
        self.release = threading.Event()
        self.lock = threading.Lock()
        server = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_POST(self):
                length = int(self.headers["Content-Length"])
                body = json.loads(self.rfile.read(length))
                prompt = body["messages"][0]["content"]
                with server.lock:
                    server.requests[prompt] += 1
                    action = server.script.pop(0) if server.script else "ok"
                if action == "hold":
                    server.holding.set()
                    server.release.wait(timeout=30)
                    return
                if action in ("429", "500", "400"):
                    payload = json.dumps({"error": {"message": f"scripted {action}", "type": "test"}})
                    self._send(int(action), payload.encode())
                    return
                if action == "malformed":
                    self._send(200, b"<html>this is not a chat completion")
                    return
                completion = {
                    "id": "chatcmpl-test",
                    "object": "chat.completion",
                    "created": 0,
                    "model": body["model"],
                    "choices": [
                        {
                            "index": 0,
                            "message": {"role": "assistant", "content": f"answer to: {prompt}"},
                            "finish_reason": "stop",
                        }
                    ],
                    "usage": {"prompt_tokens": 1, "completion_tokens": 1, "total_tokens": 2},
                }
                with server.lock:
                    server.answered[prompt] += 1
                self._send(200, json.dumps(completion).encode())

            def _send(self, status, payload):
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(payload)))
                self.end_headers()
                self.wfile.write(payload)

            def log_message(self, *args):
                pass

        self.httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.httpd.server_address[1]}/v1"

    def __enter__(self):
        self.thread.start()
        return self

    def __exit__(self, *exc):
        self.release.set()
        self.httpd.shutdown()
        self.httpd.server_close()


@pytest.fixture
def api_key(monkeypatch):
    monkeypatch.setenv(KEY_VARIABLE, SECRET)
    return KEY_VARIABLE


def make_backend(server, **options):
    options.setdefault("max_retries", 3)
    options.setdefault("backoff", 0.0)
    return OpenAICompatibleBackend(
        "test-model", base_url=server.base_url, api_key_variable=KEY_VARIABLE, timeout=10, **options
    )


def test_openai_retries_429_and_malformed(api_key, caplog):
    with ScriptedServer(["429", "malformed", "ok"]) as server:
        backend = make_backend(server)
        with caplog.at_level(logging.WARNING, logger="vatnb.textgen"):
            text = backend.generate(TextRequest("hello"))
    assert text == "answer to: hello"
    assert server.requests["hello"] == 3
    retries = [record for record in caplog.records if "retrying" in record.getMessage()]
    assert len(retries) == 2
    assert "429" in retries[0].getMessage()
    assert "JSONDecodeError" in retries[1].getMessage()


def test_openai_retries_are_bounded(api_key, caplog):
    with ScriptedServer(["500"] * 10) as server:
        backend = make_backend(server, max_retries=2)
        with caplog.at_level(logging.WARNING, logger="vatnb.textgen"):
            with pytest.raises(TextGenerationError, match="failed 3 times"):
                backend.generate(TextRequest("hello"))
    assert server.requests["hello"] == 3
    assert any("giving up" in record.getMessage() for record in caplog.records)


def test_openai_client_error_not_retried(api_key):
    with ScriptedServer(["400"]) as server:
        backend = make_backend(server)
        with pytest.raises(TextGenerationError, match="rejected the request: HTTP 400 BadRequestError"):
            backend.generate(TextRequest("hello"))
    assert server.requests["hello"] == 1


def test_openai_missing_key_variable(monkeypatch):
    monkeypatch.delenv("VATNB_UNSET_KEY", raising=False)
    with pytest.raises(ValueError, match="VATNB_UNSET_KEY"):
        OpenAICompatibleBackend("m", base_url="http://127.0.0.1:9/v1", api_key_variable="VATNB_UNSET_KEY")


def test_cache_never_stores_key(api_key, tmp_path, caplog):
    with ScriptedServer() as server:
        backend = make_backend(server)
        with caplog.at_level(logging.DEBUG):
            generate_texts(backend, [TextRequest("a"), TextRequest("b")], ResponseCache(tmp_path), progress=False)
    stored = "".join(path.read_text() for path in tmp_path.rglob("*.json"))
    assert "answer to: a" in stored
    assert SECRET not in stored
    assert SECRET not in caplog.text


def test_cache_key_covers_identity():
    base = TextRequest("p", DecodingSettings(temperature=0.7))
    key = ResponseCache.key("b", "m", base)
    assert key == ResponseCache.key("b", "m", TextRequest("p", DecodingSettings(temperature=0.7)))
    assert key != ResponseCache.key("b", "other", base)
    assert key != ResponseCache.key("other", "m", base)
    assert key != ResponseCache.key("b", "m", TextRequest("q", DecodingSettings(temperature=0.7)))
    assert key != ResponseCache.key("b", "m", TextRequest("p", DecodingSettings(temperature=0.0)))
    assert key != ResponseCache.key("b", "m", TextRequest("p", DecodingSettings(temperature=0.7), 1))


def test_generate_texts_reuses_cache(tmp_path):
    calls = Counter()

    def respond(request):
        calls[request.prompt] += 1
        return request.prompt.upper()

    backend = ReplayBackend(respond, name="scripted", model="m")
    cache = ResponseCache(tmp_path)
    requests = [TextRequest("a"), TextRequest("b"), TextRequest("a")]
    first = generate_texts(backend, requests, cache, progress=False)
    assert [result.text for result in first] == ["A", "B", "A"]
    assert [result.from_cache for result in first] == [False, False, True]
    second = generate_texts(backend, requests, cache, progress=False)
    assert all(result.from_cache for result in second)
    assert calls == Counter({"a": 1, "b": 1})
    assert len(cache) == 2


def test_replay_of_recorded_cache(tmp_path):
    cache = ResponseCache(tmp_path)
    recorder = ReplayBackend(lambda request: f"recorded {request.prompt}", name="live", model="m1")
    generate_texts(recorder, [TextRequest("x")], cache, progress=False)
    replay = ReplayBackend(None, name="live", model="m1")
    assert generate_texts(replay, [TextRequest("x")], cache, progress=False)[0].text == "recorded x"
    with pytest.raises(ReplayMissError, match="no recorded response"):
        generate_texts(replay, [TextRequest("y")], cache, progress=False)


def test_replay_mapping_answers():
    replay = ReplayBackend({"known": "yes"})
    assert replay.generate(TextRequest("known")) == "yes"
    with pytest.raises(ReplayMissError):
        replay.generate(TextRequest("unknown"))


KILLED_RUN = textwrap.dedent(
    """
    import sys
    from vatnb.textgen import OpenAICompatibleBackend, ResponseCache, TextRequest, generate_texts
    backend = OpenAICompatibleBackend(
        "test-model", base_url=sys.argv[1], api_key_variable="{key}", timeout=60, max_retries=0
    )
    prompts = [f"prompt {{index}}" for index in range(int(sys.argv[3]))]
    generate_texts(backend, [TextRequest(p) for p in prompts], ResponseCache(sys.argv[2]), progress=False)
    """
).format(key=KEY_VARIABLE)


def test_killed_run_resumes_without_repeats(api_key, tmp_path):
    prompts = [f"prompt {index}" for index in range(6)]
    script = tmp_path / "run.py"
    script.write_text(KILLED_RUN)
    cache_dir = tmp_path / "cache"
    # The first three requests are answered; the fourth is held open until the client is killed.
    with ScriptedServer(["ok", "ok", "ok", "hold"]) as server:
        environment = {**os.environ, "PYTHONPATH": str(REPOSITORY_ROOT)}
        process = subprocess.Popen(
            [sys.executable, str(script), server.base_url, str(cache_dir), str(len(prompts))],
            env=environment,
        )
        try:
            assert server.holding.wait(timeout=60), "the client never sent its fourth request"
        finally:
            process.kill()
            process.wait(timeout=30)
        assert process.returncode != 0
        assert sum(server.answered.values()) == 3
        assert len(ResponseCache(cache_dir)) == 3

        server.release.set()
        backend = make_backend(server)
        results = generate_texts(
            backend, [TextRequest(p) for p in prompts], ResponseCache(cache_dir), progress=False
        )
    assert [result.text for result in results] == [f"answer to: {p}" for p in prompts]
    assert [result.from_cache for result in results] == [True] * 3 + [False] * 3
    # Every prompt was answered exactly once over both runs: no call repeated, none lost.
    assert server.answered == Counter({p: 1 for p in prompts})
    # Only the request in flight at the kill reached the server twice.
    assert server.requests == Counter({**{p: 1 for p in prompts}, "prompt 3": 2})


@pytest.fixture(scope="module")
def tiny_model_dir():
    from vatnb.tinymodel import tiny_qwen3

    # The default build lives in the user cache and is shared with other tests.
    return tiny_qwen3()


def test_huggingface_backend_tiny_model(tiny_model_dir, tmp_path):
    from vatnb.textgen import HuggingFaceBackend

    backend = HuggingFaceBackend(str(tiny_model_dir))
    greedy = DecodingSettings(temperature=0.0, max_tokens=8)
    first = backend.generate(TextRequest("Describe one action.", greedy))
    second = backend.generate(TextRequest("Describe one action.", greedy))
    assert isinstance(first, str)
    assert first == second

    sampled = DecodingSettings(temperature=1.0, max_tokens=8, seed=7)
    draw = backend.generate(TextRequest("Describe one action.", sampled))
    assert draw == backend.generate(TextRequest("Describe one action.", sampled))

    cache = ResponseCache(tmp_path)
    results = generate_texts(backend, [TextRequest("Describe one action.", greedy)], cache, progress=False)
    assert results[0].text == first
    assert len(cache) == 1
    assert backend.model == str(tiny_model_dir)


def test_huggingface_backend_without_chat_template(tiny_model_dir):
    from transformers import AutoModelForCausalLM, AutoTokenizer

    from vatnb.textgen import HuggingFaceBackend

    model = AutoModelForCausalLM.from_pretrained(str(tiny_model_dir))
    tokenizer = AutoTokenizer.from_pretrained(str(tiny_model_dir))
    backend = HuggingFaceBackend(model, tokenizer, use_chat_template=False)
    text = backend.generate(TextRequest("I", DecodingSettings(temperature=0.0, max_tokens=4)))
    assert isinstance(text, str)
