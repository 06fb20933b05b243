"""JSON answers as readable text: one `key  value` line per field, keys aligned, nested objects
indented under their key, lists of objects as `- ` items.

Rule: values read as JSON writes them (`null`, `true`, `3`), strings bare unless they are
empty or hold something unprintable or space at either end (then JSON-quoted, escapes and
all): never a Python repr, and nothing from an answer can start a new line of its own."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Final

import orjson

INDENT: Final = "  "


def render(value: Any) -> str:
    """`value` as lines of text (no trailing newline)."""
    return "\n".join(lines(value, 0))


def lines(value: Any, depth: int) -> list[str]:
    pad = INDENT * depth
    if isinstance(value, Mapping):
        return _fields(value, depth) if value else [pad + "{}"]
    if isinstance(value, list) and _nested(value):
        return [line for item in value for line in _item(item, depth)]
    return [pad + scalar(value)]


def scalar(value: Any) -> str:
    """A value that fits on one line: strings bare where safe, the rest as JSON."""
    if isinstance(value, str) and value and value.isprintable() and value == value.strip():
        return value
    if isinstance(value, list):
        return ", ".join(scalar(item) for item in value) if value else "[]"
    return orjson.dumps(value, default=str).decode()


def _fields(value: Mapping[Any, Any], depth: int) -> list[str]:
    pad = INDENT * depth
    keys = {key: scalar(str(key)) for key in value}
    width = max(len(shown) for shown in keys.values())
    out: list[str] = []
    for key, item in value.items():
        if _block(item):
            out.append(pad + keys[key])
            out.extend(lines(item, depth + 1))
        else:
            out.append(f"{pad}{keys[key].ljust(width)}  {scalar(item)}")
    return out


def _item(item: Any, depth: int) -> list[str]:
    """One list element under a `- ` marker, its own lines indented past it."""
    pad = INDENT * depth
    shown = lines(item, depth + 1)
    first = shown[0]
    return [pad + "- " + first[len(pad) + len(INDENT) :], *shown[1:]]


def _block(value: Any) -> bool:
    if isinstance(value, Mapping):
        return bool(value)
    return isinstance(value, list) and _nested(value)


def _nested(value: list[Any]) -> bool:
    return any(isinstance(item, Mapping | list) for item in value)
