"""The token registry: secrets map to principals; malformed entries fail loudly."""

from __future__ import annotations

from pathlib import Path

import pytest

from caseledger.adapters.tokens import (
    TokenRegistry,
    TokensFileError,
    demo_token_names,
    demo_tokens_document,
)
from caseledger.domain.shared.actors import ActorType, Role


def _write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "tokens.toml"
    path.write_text(text)
    return path


def test_a_token_resolves_to_its_tenant_and_actor(tmp_path: Path) -> None:
    path = _write(
        tmp_path,
        '[tokens."s3cret-reviewer"]\ntenant = "t1"\nactor_type = "user"\n'
        'actor_id = "rita"\nroles = ["reviewer"]\n',
    )
    principal = TokenRegistry.from_toml(path).resolve("s3cret-reviewer")
    assert principal is not None
    assert (principal.tenant_id, principal.actor.type, principal.actor.id) == (
        "t1",
        ActorType.USER,
        "rita",
    )
    assert principal.actor.roles == frozenset({Role.REVIEWER})


def test_an_unknown_secret_resolves_to_nobody(tmp_path: Path) -> None:
    path = _write(
        tmp_path, '[tokens."s3cret-x1"]\ntenant = "t1"\nactor_type = "system"\nactor_id = "n"\n'
    )
    assert TokenRegistry.from_toml(path).resolve("s3cret-x2") is None


def test_an_agent_token_needs_a_run_id(tmp_path: Path) -> None:
    path = _write(
        tmp_path, '[tokens."agent-token"]\ntenant = "t1"\nactor_type = "agent"\nactor_id = "bot"\n'
    )
    with pytest.raises(TokensFileError, match="run_id"):
        TokenRegistry.from_toml(path)


def test_only_users_hold_roles(tmp_path: Path) -> None:
    path = _write(
        tmp_path,
        '[tokens."agent-token"]\ntenant = "t1"\nactor_type = "agent"\nactor_id = "bot"\n'
        'run_id = "r1"\nroles = ["supervisor"]\n',
    )
    with pytest.raises(TokensFileError, match="roles"):
        TokenRegistry.from_toml(path)


def test_a_file_that_is_not_toml_is_refused_with_its_path(tmp_path: Path) -> None:
    path = _write(tmp_path, "[tokens\n")
    with pytest.raises(TokensFileError, match="not TOML"):
        TokenRegistry.from_toml(path)


def test_the_demo_tokens_file_parses_and_names_each_role(tmp_path: Path) -> None:
    text, issued = demo_tokens_document()
    path = _write(tmp_path, text)
    registry = TokenRegistry.from_toml(path)
    assert len(registry) == len(issued) == 5
    assert demo_token_names(path) == issued
    agent = registry.resolve(issued["agent"])
    assert agent is not None
    assert (agent.actor.run_id, agent.agent_name) == ("demo-run-1", "risk-bot")
