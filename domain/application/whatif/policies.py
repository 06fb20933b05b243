"""A tenant's policy history: the rules of every version published, and which was in force at a
`$all` position (for refusals, whose records do not name the version they were decided under)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from caseledger.domain.application.aggregates import POLICY
from caseledger.domain.application.codec import StoredEvent
from caseledger.domain.policy.decider import PolicyState
from caseledger.domain.shared.policy_rules import DEFAULT_POLICY_VERSION, DEFAULT_RULES, PolicyRules


@dataclass(frozen=True)
class PolicyTimeline:
    versions: Mapping[str, PolicyRules]
    published: Sequence[tuple[int, str]]
    """(commit position, version) of each publication, oldest first."""

    def at(self, position: int) -> tuple[str, PolicyRules]:
        """The version in force for a command recorded at `position`: the newest published
        before it."""
        version = DEFAULT_POLICY_VERSION
        for published_at, name in self.published:
            if published_at >= position:
                break
            version = name
        return version, self.versions[version]


def timeline(policy: Sequence[StoredEvent]) -> PolicyTimeline:
    """The timeline folded from a tenant's policy stream with the policy's own `evolve`."""
    state: PolicyState = POLICY.initial_state()
    versions = {DEFAULT_POLICY_VERSION: DEFAULT_RULES}
    published: list[tuple[int, str]] = []
    for stored in policy:
        state = POLICY.evolve(state, stored.event)
        versions[state.version] = state.rules
        published.append((stored.recorded.commit_position, state.version))
    return PolicyTimeline(versions, published)
