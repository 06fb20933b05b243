"""The ids of the work in hand (command, correlation, causation, run), for every log line
written while it is handled: the wrappers set them, the JSON log formatter reads them."""

from __future__ import annotations

import contextvars
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from types import MappingProxyType
from typing import Any

_NONE: Mapping[str, Any] = MappingProxyType({})
_ids: contextvars.ContextVar[Mapping[str, Any]] = contextvars.ContextVar(
    "caseledger_log_ids", default=_NONE
)


def current_ids() -> Mapping[str, Any]:
    return _ids.get()


@contextmanager
def bound_ids(**ids: Any) -> Iterator[None]:
    """Add `ids` (None values dropped) to the log context for the `with` block."""
    token = _ids.set({**_ids.get(), **{k: v for k, v in ids.items() if v is not None}})
    try:
        yield
    finally:
        _ids.reset(token)
