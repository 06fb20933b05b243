"""What `caseledger serve` prints so a new user can review something at once: the shell
commands (the CLI over HTTP, with the demo tokens) by which an analyst opens a case and files
evidence, a reviewer approves the evidence, and the demo agent proposes a risk update — which
then waits in the console's inbox for the reviewer. The case id is fresh on every start."""

from __future__ import annotations

import json
import shlex
import time
from collections.abc import Mapping, Sequence
from typing import Any


def agent_proposal_commands(cli: Sequence[str], url: str, tokens: Mapping[str, str]) -> list[str]:
    """The commands (`cli` is how to run caseledger, e.g. `[".venv/bin/caseledger"]`), one per
    line, or none when a demo token they need is missing."""
    if not {"analyst", "reviewer", "agent"} <= tokens.keys():
        return []
    case_id = time.strftime("demo-%H%M%S")
    steps: list[tuple[str, str, dict[str, Any]]] = [
        (
            "analyst",
            "open_case",
            {"case_id": case_id, "allegation_summary": "Unlicensed consumer lending"},
        ),
        (
            "analyst",
            "submit_evidence",
            {
                "case_id": case_id,
                "evidence_id": "e1",
                "title": "Bank statement, March",
                "text": "Twelve transfers of 9,900 EUR to an account abroad within two weeks.",
            },
        ),
        (
            "reviewer",
            "review_evidence",
            {"case_id": case_id, "evidence_id": "e1", "verdict": "approve"},
        ),
        (
            "agent",
            "propose_risk_update",
            {
                "case_id": case_id,
                "proposed_risk_level": "high",
                "rationale": "Structured transfers just under the reporting threshold (e1).",
                "evidence_refs": ["e1"],
                "confidence": 0.82,
            },
        ),
    ]
    return [
        f"{shlex.join(cli)} command --url {shlex.quote(url)} --type {command_type} "
        f"--token {shlex.quote(tokens[who])} --payload {shlex.quote(json.dumps(payload))}"
        for who, command_type, payload in steps
    ]


def how_to_run(argv0: str, python: str) -> list[str]:
    """How this process was started, as a command for the shell: its script, or (when run as
    `python -m caseledger.adapters.cli.app`) the interpreter and the module."""
    if argv0.endswith(".py") or not argv0:
        return [python, "-m", "caseledger.adapters.cli.app"]
    return [argv0]
