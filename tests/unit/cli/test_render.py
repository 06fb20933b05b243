"""Answers as the CLI prints them by default: aligned fields, JSON's words for values, one
line per field whatever a string holds."""

from __future__ import annotations

from caseledger.adapters.cli.render import render


def test_fields_are_aligned_and_values_read_as_json_writes_them() -> None:
    text = render({"case_id": "c1", "risk_level": None, "reached": True, "lag": 0, "score": 1.5})

    assert text.splitlines() == [
        "case_id     c1",
        "risk_level  null",
        "reached     true",
        "lag         0",
        "score       1.5",
    ]


def test_nested_objects_are_indented_under_their_key_and_lists_of_objects_are_items() -> None:
    text = render(
        {
            "data": {
                "evidence": [{"evidence_id": "e1", "refs": ["a", "b"]}, {"evidence_id": "e22"}],
                "next_offset": None,
            }
        }
    )

    assert text.splitlines() == [
        "data",
        "  evidence",
        "    - evidence_id  e1",
        "      refs         a, b",
        "    - evidence_id  e22",
        "  next_offset  null",
    ]


def test_a_string_that_could_break_a_line_or_hide_spaces_is_json_quoted() -> None:
    text = render({"snippet": "one\ntwo", "title": " padded ", "empty": "", "markup": "[red]x"})

    assert text.splitlines() == [
        'snippet  "one\\ntwo"',
        'title    " padded "',
        'empty    ""',
        "markup   [red]x",
    ]


def test_empty_containers_and_bare_values_are_printed_plainly() -> None:
    assert render({"items": [], "details": {}}).splitlines() == ["items    []", "details  {}"]
    assert render("text") == "text"
    assert render(None) == "null"
