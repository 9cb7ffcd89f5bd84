"""Recognise API keys among chapter parameters, which papermill writes into notebooks."""

from __future__ import annotations

import re

DEFAULT_KEY_VARIABLE = "OPENAI_API_KEY"
SECRET_NAME = re.compile(r"(api_?key|token|secret|password)", re.IGNORECASE)
SECRET_VALUE = re.compile(r"^(sk-|sk_|hf_|gsk_|ghp_|xai-|AIza)[A-Za-z0-9_\-]{8,}$")
ENVIRONMENT_VARIABLE_NAME = re.compile(r"[A-Z][A-Z0-9_]*")


def looks_like_secret(name: str, value: object) -> bool:
    """Return True when a parameter probably carries a credential.

    That is the case when the name mentions a key, token, secret or password
    and the value is a non-empty string that is not an environment variable
    name, or when the value looks like a provider key (``sk-...``, ``hf_...``).
    """
    if not isinstance(value, str) or not value:
        return False
    names_secret = bool(SECRET_NAME.search(name)) and not ENVIRONMENT_VARIABLE_NAME.fullmatch(value)
    return names_secret or bool(SECRET_VALUE.match(value.strip()))


def reject_secret_parameters(parameters: dict) -> None:
    """Raise ValueError if a parameter looks like an API key."""
    for name, value in parameters.items():
        if looks_like_secret(name, value):
            raise ValueError(
                f"parameter {name!r} looks like an API key; parameters are saved in the executed "
                "notebook, so never pass a key as one. Put the key in an environment variable "
                f"(default {DEFAULT_KEY_VARIABLE}) and pass only the variable's name."
            )
