"""Recognise API keys among chapter parameters, which papermill writes into notebooks.

:func:`redact` removes keys from error messages and log lines.
"""

from __future__ import annotations

import re
import urllib.parse
from collections.abc import Iterable

DEFAULT_KEY_VARIABLE = "OPENAI_API_KEY"
SECRET_NAME = re.compile(r"(api_?key|token|secret|password)", re.IGNORECASE)
# Provider key shapes (OpenAI, Hugging Face, Groq, GitHub, xAI, Google), matched anywhere.
SECRET_VALUE = re.compile(
    r"(?<![A-Za-z0-9])(sk-|sk_|hf_|gsk_|ghp_|xai-|AIza)[A-Za-z0-9_\-]{12,}", re.IGNORECASE
)
ENVIRONMENT_VARIABLE_NAME = re.compile(r"[A-Z][A-Z0-9_]*")
REDACTED = "<redacted>"
# An HTTP Authorization header value, as servers echo it in error bodies.
BEARER_TOKEN = re.compile(r"(\bBearer\s+)(?!<redacted>)[^\s\"',;]+", re.IGNORECASE)
MIN_REDACTED_LENGTH = 4


def _contains_key(value: str) -> bool:
    """Return True when a string carries a key: as a whole, in a list item or in a URL."""
    if SECRET_VALUE.search(value):
        return True
    parts = urllib.parse.urlsplit(value.strip())
    if parts.password:
        return True
    query = urllib.parse.parse_qsl(parts.query, keep_blank_values=True)
    return any(SECRET_NAME.search(name) and item for name, item in query)


def looks_like_secret(name: str, value: object) -> bool:
    """Return True when a parameter probably carries a credential.

    That is the case when the name mentions a key, token, secret or password
    and the value is a non-empty string that is not an environment variable
    name, or when the value, one of its comma-separated items, or a URL in it
    contains something shaped like a provider key (``sk-...``, ``hf_...``), a
    password or a key-named query parameter.
    """
    if isinstance(value, (list, tuple)):
        return any(looks_like_secret(name, item) for item in value)
    if not isinstance(value, str) or not value.strip():
        return False
    names_secret = bool(SECRET_NAME.search(name)) and not ENVIRONMENT_VARIABLE_NAME.fullmatch(
        value.strip()
    )
    return names_secret or _contains_key(value)


class APIKeyRejectedError(RuntimeError):
    """The server rejected the API key (HTTP 401) or its permissions (HTTP 403)."""


def check_connection_settings(key: str, key_variable: str, base_url: str | None) -> None:
    """Raise ValueError for a key or server address that no HTTP request could carry.

    A key with whitespace (often a pasted newline) or non-ASCII characters
    cannot go into an HTTP header, and a ``base_url`` without its scheme is
    not an address. Unchecked, both show up later as connection errors, as if
    the server were failing. The message never contains the key.
    """
    if any(character.isspace() for character in key) or not key.isascii():
        raise ValueError(
            f"the API key in ${key_variable} contains whitespace or non-ASCII characters, which an "
            "HTTP header cannot carry; export it again without the line break or stray characters"
        )
    if base_url and not str(base_url).startswith(("http://", "https://")):
        raise ValueError(f"base_url must start with http:// or https://, got {base_url!r}")


def redact(text: str, secrets: Iterable[str] = ()) -> str:
    """Replace credentials in ``text`` with ``<redacted>``.

    Three things are replaced: each exact value in ``secrets`` (for example
    the key a client was given, whatever its shape), the token after
    ``Bearer``, and everything shaped like a provider key. Secrets shorter
    than ``MIN_REDACTED_LENGTH`` characters are left alone, because replacing
    every occurrence of a placeholder such as ``x`` would garble the message.
    """
    for secret in sorted(secrets, key=len, reverse=True):
        if secret and len(secret) >= MIN_REDACTED_LENGTH:
            text = text.replace(secret, REDACTED)
    text = BEARER_TOKEN.sub(rf"\1{REDACTED}", text)
    return SECRET_VALUE.sub(REDACTED, text)


def reject_secret_parameters(parameters: dict) -> None:
    """Raise ValueError if a parameter looks like an API key."""
    for name, value in parameters.items():
        if looks_like_secret(name, value):
            raise ValueError(
                f"parameter {name!r} looks like an API key; parameters are saved in the executed "
                "notebook, so never pass a key as one. Put the key in an environment variable "
                f"(default {DEFAULT_KEY_VARIABLE}) and pass only the variable's name."
            )
