"""The rules of a policy a decision can depend on, named by path (`risk_update.approver_roles`),
taken from `PolicyRules` itself. Budgets are not among them: their per-window history is not
kept, so no past decision can be re-decided under another one."""

from __future__ import annotations

from typing import Any, Final

from pydantic import BaseModel

from caseledger.domain.shared.policy_rules import PolicyRules

BUDGETS: Final = frozenset({"agent_commands_per_minute", "run_command_budget"})


def _paths(model: type[BaseModel], prefix: str = "") -> tuple[str, ...]:
    paths: list[str] = []
    for name, field in model.model_fields.items():
        kind = field.annotation
        if isinstance(kind, type) and issubclass(kind, BaseModel):
            paths += _paths(kind, f"{prefix}{name}.")
        elif prefix or name not in BUDGETS:
            paths.append(f"{prefix}{name}")
    return tuple(paths)


RULES: Final = _paths(PolicyRules)
"""Every re-decidable rule, in the order `PolicyRules` declares them."""


def value_of(rules: PolicyRules, path: str) -> Any:
    value: Any = rules
    for part in path.split("."):
        value = getattr(value, part)
    return value


def changed(then: PolicyRules, draft: PolicyRules) -> tuple[str, ...]:
    """The rules the draft sets otherwise than `then`."""
    return tuple(path for path in RULES if value_of(then, path) != value_of(draft, path))


def with_rule(rules: PolicyRules, path: str, source: PolicyRules) -> PolicyRules:
    """`rules` with the one rule at `path` taken from `source`."""
    head, _, rest = path.partition(".")
    if not rest:
        return rules.model_copy(update={head: getattr(source, head)})
    inner: BaseModel = getattr(rules, head)
    return rules.model_copy(update={head: inner.model_copy(update={rest: value_of(source, path)})})
