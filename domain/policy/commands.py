"""Policy commands."""

from __future__ import annotations

from caseledger.domain.shared.commands import CommandBody
from caseledger.domain.shared.ids import Identifier
from caseledger.domain.shared.policy_rules import PolicyRules


class PublishPolicy(CommandBody):
    """Publish `rules` as `policy_version`; from then on commands are decided under it."""

    policy_version: Identifier
    rules: PolicyRules


PolicyCommand = PublishPolicy
