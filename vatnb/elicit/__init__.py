"""Likert elicitation: prompts in, judgment records out, through one on-disk cache.

Backends: :class:`HFBackend` (``hf``, next-token probabilities of a
transformers model), :class:`OpenAIBackend` (``openai``, any OpenAI-compatible
chat API), :class:`SimulatedBackend` (``simulated``, the known-answer
simulator) and :class:`ReplayBackend` (``replay``, a file of earlier records).
The HF and OpenAI backends import their heavy dependencies only when used.
"""

from vatnb.elicit.cache import CacheError, CorruptCacheError, JudgmentCache, judgment_key
from vatnb.elicit.engine import elicit, make_judgment, probabilities_to_judgment, unreadable_counts
from vatnb.elicit.replay import ReplayBackend, ReplayMissError
from vatnb.elicit.simulated import SimulatedBackend

BACKENDS = ("simulated", "hf", "openai", "replay")


def __getattr__(name):
    if name in ("HFBackend", "likert_probabilities"):
        from vatnb.elicit import hf

        return getattr(hf, name)
    if name in ("OpenAIBackend", "APIKeyRejectedError", "ServerFailedError", "reject_secret_parameters"):
        from vatnb.elicit import openai_backend

        return getattr(openai_backend, name)
    raise AttributeError(f"module 'vatnb.elicit' has no attribute {name!r}")


__all__ = [
    "BACKENDS",
    "CacheError",
    "CorruptCacheError",
    "JudgmentCache",
    "judgment_key",
    "elicit",
    "make_judgment",
    "probabilities_to_judgment",
    "unreadable_counts",
    "HFBackend",
    "likert_probabilities",
    "OpenAIBackend",
    "APIKeyRejectedError",
    "ServerFailedError",
    "reject_secret_parameters",
    "ReplayBackend",
    "ReplayMissError",
    "SimulatedBackend",
]
