"""Text from events and evidence is data, never instructions (seed §23).

Before a tool result reaches model context, every free-text value is wrapped in
`<untrusted-data source="...">...</untrusted-data>`. Inside the block, `&`, `<`, `>`, angle
bracket look-alikes, bidi overrides and control characters become character references, so
no text can close the block, open a fake one, or hide itself. Only structural fields (ids,
statuses, refs) whose value is a plain token pass unwrapped; anything else is fenced.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any, Final

OPEN: Final = "<untrusted-data"
CLOSE: Final = "</untrusted-data>"

STRUCTURAL_KEYS: Final = frozenset(
    {
        "case_id",
        "draft_id",
        "evidence_id",
        "proposal_id",
        "brief_id",
        "subject_id",
        "approval_request_id",
        "approval_id",
        "send_request_id",
        "decision_id",
        "tenant_id",
        "status",
        "risk_level",
        "current_risk_level",
        "proposed_risk_level",
        "current_status",
        "proposed_status",
        "kind",
        "digest",
        "policy_version",
        "view",
        "ref",
        "refs",
        "source_refs",
        "key_evidence_refs",
        "missing_evidence",
        "allowed_actions",
        "recent_events",
        "evidence_refs",
        "last_updated_at",
        "requested_at",
        "stream_id",
        "reason_code",
    }
)
"""Fields the system writes from constrained vocabularies; their plain-token values pass."""

_PLAIN_TOKEN: Final = re.compile(r"[A-Za-z0-9_.:@#/+\-]{1,200}")
_MAX_PLAIN_WORDS: Final = 2

_ESCAPES: Final = {"&": "&amp;", "<": "&lt;", ">": "&gt;"}
_LOOKALIKES: Final = (
    "\uff1c\uff1e\ufe64\ufe65\u2329\u232a\u3008\u3009\u2039\u203a"
    "\u27e8\u27e9\u276e\u276f\u300a\u300b\u02c2\u02c3"
)
"""Angle brackets in other scripts that a model might read as `<` or `>`."""
_HIDDEN: Final = re.compile(
    r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f\u200b-\u200f\u202a-\u202e\u2060-\u2069\ufeff]"
)
_TO_ESCAPE: Final = re.compile(f"[&<>{_LOOKALIKES}]")


def neutralise(text: str) -> str:
    """`text` with nothing that could read as markup or hide: escaped as character refs."""
    text = _TO_ESCAPE.sub(lambda m: _ESCAPES.get(m.group(), f"&#x{ord(m.group()):X};"), text)
    return _HIDDEN.sub(lambda m: f"&#x{ord(m.group()):X};", text)


def fence(text: str, source: str) -> str:
    """`text` as one delimited, marked block of untrusted data from `source`."""
    return (
        f'{OPEN} source="{neutralise(source).replace(chr(34), "&quot;")}">{neutralise(text)}{CLOSE}'
    )


def is_plain_token(text: str) -> bool:
    words = text.split(" ")
    return len(words) <= _MAX_PLAIN_WORDS and all(_PLAIN_TOKEN.fullmatch(w) for w in words)


def fence_document(value: Any, source: str, key: str | None = None) -> Any:
    """A JSON value with every string fenced, but plain tokens under structural keys.
    `source` names where the value came from; each block's source adds its path."""
    if isinstance(value, str):
        if key in STRUCTURAL_KEYS and is_plain_token(value):
            return value
        return fence(value, source)
    if isinstance(value, Mapping):
        keys = {k: str(k) if is_plain_token(str(k)) else neutralise(str(k)) for k in value}
        return {
            keys[k]: fence_document(v, f"{source}.{keys[k]}", keys[k]) for k, v in value.items()
        }
    if isinstance(value, list | tuple):
        return [fence_document(v, f"{source}[{n}]", key) for n, v in enumerate(value)]
    return value
