"""The OpenAI-compatible text backend keeps the API key out of logs, errors and notebooks.

A loopback server echoes the request's Authorization header in its error
body, as some providers do, so every message built from the response would
carry the key unless the backend removes it.
"""

from __future__ import annotations

import http.server
import json
import logging
import os
import subprocess
import sys
import threading
import traceback
from pathlib import Path

import pytest

from vatnb.textgen import (
    APIKeyRejectedError,
    OpenAICompatibleBackend,
    TextGenerationError,
    TextRequest,
)

REPOSITORY_ROOT = Path(__file__).resolve().parents[1]
KEY_VARIABLE = "VATNB_TEST_ECHOED_KEY"
# One key with a provider's shape and one that no pattern would recognise.
KEYS = ["sk-echo-ABCDEFGH12345678", "plain-secret-value-42"]


class EchoingServer:
    """A chat completions server on 127.0.0.1 that fails every request with ``status``.

    The error body echoes the Authorization header (``Bearer KEY``) and, in a
    second place, the bare key after it.
    """

    def __init__(self, status: int):
        self.requests = 0
        server = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_POST(self):
                self.rfile.read(int(self.headers["Content-Length"]))
                server.requests += 1
                header = self.headers.get("Authorization", "")
                bare_key = header.removeprefix("Bearer ")
                message = f"Incorrect API key provided: {header} (key {bare_key})"
                payload = json.dumps({"error": {"message": message, "type": "test"}}).encode()
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
        self.httpd.shutdown()
        self.httpd.server_close()


def formatted(error: BaseException) -> str:
    """Return the full traceback text of ``error``, chained causes and contexts included."""
    return "".join(traceback.format_exception(type(error), error, error.__traceback__))


def generate_against(status: int, key: str, monkeypatch, caplog):
    """Send one request to an echoing server with ``key`` and return (error, requests, logs)."""
    monkeypatch.setenv(KEY_VARIABLE, key)
    with EchoingServer(status) as server:
        backend = OpenAICompatibleBackend(
            "test-model", base_url=server.base_url, api_key_variable=KEY_VARIABLE,
            timeout=10, max_retries=2, backoff=0.0,
        )
        with caplog.at_level(logging.DEBUG):
            with pytest.raises(TextGenerationError) as raised:
                backend.generate(TextRequest("hello"))
    logs = "\n".join(record.getMessage() for record in caplog.records)
    return raised.value, server.requests, logs


@pytest.mark.parametrize("key", KEYS)
@pytest.mark.parametrize("status", [401, 403])
def test_rejected_key_names_variable(status, key, monkeypatch, caplog):
    error, requests, logs = generate_against(status, key, monkeypatch, caplog)
    assert isinstance(error, APIKeyRejectedError)
    assert requests == 1
    assert f"rejected the API key read from ${KEY_VARIABLE}" in str(error)
    assert f"HTTP {status}" in str(error)
    assert key not in str(error)
    assert key not in formatted(error)
    assert key not in logs
    assert error.__cause__ is None
    assert error.__suppress_context__


@pytest.mark.parametrize("key", KEYS)
def test_server_error_retries_redacted(key, monkeypatch, caplog):
    error, requests, logs = generate_against(500, key, monkeypatch, caplog)
    assert requests == 3
    assert "failed 3 times" in str(error)
    assert "Bearer <redacted>" in str(error)
    assert key not in str(error)
    assert key not in formatted(error)
    retries = [record for record in caplog.records if "retrying" in record.getMessage()]
    assert len(retries) == 2
    assert "<redacted>" in retries[0].getMessage()
    assert key not in logs


@pytest.mark.parametrize("key", KEYS)
def test_client_error_raises_redacted(key, monkeypatch, caplog):
    error, requests, logs = generate_against(400, key, monkeypatch, caplog)
    assert type(error) is TextGenerationError
    assert requests == 1
    assert "rejected the request: HTTP 400" in str(error)
    assert key not in str(error)
    assert key not in formatted(error)
    assert key not in logs


CHAPTER_RUN = [
    "run", "02", "-p", "backend", "openai", "-p", "model", "m", "-p", "api_key_variable",
    KEY_VARIABLE, "-p", "countries", "India", "-p", "topics", "Work", "-p", "micro_values", "Wealth",
]


@pytest.mark.book
def test_chapter_notebook_never_contains_key(tmp_path):
    key = KEYS[0]
    environment = {
        **os.environ, KEY_VARIABLE: key, "VATNB_CACHE_DIR": str(tmp_path / "cache"),
        "PYTHONPATH": str(REPOSITORY_ROOT),
    }
    with EchoingServer(401) as server:
        result = subprocess.run(
            [sys.executable, "-m", "vatnb.cli", *CHAPTER_RUN, "-p", "base_url", server.base_url,
             "-o", str(tmp_path / "out")],
            capture_output=True, text=True, env=environment, cwd=REPOSITORY_ROOT, timeout=300,
        )
    notebook = (tmp_path / "out" / "02_building_the_dataset.ipynb").read_text()
    assert key not in notebook
    assert key not in result.stdout + result.stderr
    assert result.returncode == 2
    assert f"rejected the API key read from ${KEY_VARIABLE}" in result.stderr
    assert "APIKeyRejectedError" in notebook
