"""How a refused payload is described to its caller."""

from __future__ import annotations

from pydantic import BaseModel, ValidationError

from caseledger.domain.shared.errors import (
    INPUT_BUDGET,
    MAX_DESCRIBED,
    MAX_PIECE,
    clip,
    describe_invalid,
)


class Twelve(BaseModel):
    f00: int
    f01: int
    f02: int
    f03: int
    f04: int
    f05: int
    f06: int
    f07: int
    f08: int
    f09: int
    f10: int
    f11: int


def test_a_description_names_at_most_ten_fields_and_counts_the_rest() -> None:
    try:
        Twelve.model_validate({})
    except ValidationError as error:
        described = describe_invalid(error.errors())
    parts = described.split("; ")
    assert len(parts) == MAX_DESCRIBED + 1
    assert parts[0] == "f00: Field required"
    assert parts[-1] == "and 2 more"


def test_a_nested_field_is_named_by_its_path_and_an_empty_report_still_says_invalid() -> None:
    errors = [{"loc": ("evidence_refs", 2), "msg": "Input should be a valid string"}]
    assert describe_invalid(errors) == "evidence_refs.2: Input should be a valid string"
    assert describe_invalid([]) == "invalid"


def test_key_names_are_cut_and_marked_and_all_of_them_quote_at_most_the_budget() -> None:
    errors = [
        {"loc": (f"{n}" * 10_000,), "msg": "Extra inputs are not permitted"} for n in range(10)
    ]

    described = describe_invalid(errors)

    quoted = sum(described.count(f"{n}") for n in range(10))
    assert quoted <= INPUT_BUDGET + 10 * 12  # the budget, and each mark's digits
    assert described.count("…[+") == 10
    assert described.startswith("0" * MAX_PIECE + "…[+9936 characters]: Extra inputs")
    assert len(described) < 1_000


def test_clip_keeps_short_text_and_marks_what_it_cuts() -> None:
    assert clip("short") == "short"
    assert clip("x" * 250) == "x" * INPUT_BUDGET + "…[+50 characters]"
    assert clip("abcdef", 2) == "ab…[+4 characters]"
