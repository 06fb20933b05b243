"""The service's unit-level scenarios, run again on both stores (`store` is parametrised in
conftest): every write-side row of the seed's §27 table, the §30 drill end to end, and the
service's behaviour (metadata, audit log, idempotency, budgets, tenants, policy versions).
Written once in tests/unit/application; here they also prove the embedded store through the
real client."""

from __future__ import annotations

from tests.unit.application.test_agent_budgets import (
    test_a_budget_raised_by_another_service_is_read_before_a_run_is_refused,
    test_a_run_over_its_budget_is_refused_while_the_agents_other_runs_go_on,
    test_a_runs_budget_holds_after_a_restart_of_the_service,
    test_schema_invalid_commands_count_against_the_agents_rate,
    test_two_services_on_one_store_share_one_runs_budget,
)
from tests.unit.application.test_practice_drill import (
    test_the_enforcement_drill_runs_end_to_end,
)
from tests.unit.application.test_seed_write_side_table import (
    test_a_replay_renders_as_json_for_auditors,
    test_command_duplicate_idempotency_key_returns_the_same_result,
    test_command_with_stale_aggregate_version_conflicts,
    test_command_without_permission_is_rejected,
    test_event_replay_reconstructs_expected_state,
    test_human_approval_missing_command_requires_approval,
    test_proposed_escalation_without_evidence_is_rejected,
    test_unknown_event_version_is_rejected,
)
from tests.unit.application.test_service import (
    test_a_policy_change_between_proposal_and_decision_asks_again,
    test_a_published_policy_applies_to_the_next_command,
    test_a_retry_survives_a_restart_of_the_service,
    test_a_retry_with_the_original_stale_version_is_still_a_duplicate,
    test_a_reused_idempotency_key_with_another_payload_is_refused,
    test_a_run_has_a_total_budget,
    test_a_service_sees_what_another_service_wrote_since_it_last_loaded,
    test_an_agent_over_its_rate_is_rejected_and_users_are_not_budgeted,
    test_another_tenants_case_is_out_of_reach,
    test_every_answer_but_acceptance_is_recorded_in_the_commandlog,
    test_idempotency_keys_are_scoped_to_the_actor,
    test_publishing_a_policy_that_lets_agents_approve_is_a_validation_error,
    test_stored_metadata_follows_kurrentdb_conventions,
)

__all__ = [
    "test_a_budget_raised_by_another_service_is_read_before_a_run_is_refused",
    "test_a_policy_change_between_proposal_and_decision_asks_again",
    "test_a_published_policy_applies_to_the_next_command",
    "test_a_replay_renders_as_json_for_auditors",
    "test_a_retry_survives_a_restart_of_the_service",
    "test_a_retry_with_the_original_stale_version_is_still_a_duplicate",
    "test_a_reused_idempotency_key_with_another_payload_is_refused",
    "test_a_run_has_a_total_budget",
    "test_a_run_over_its_budget_is_refused_while_the_agents_other_runs_go_on",
    "test_a_runs_budget_holds_after_a_restart_of_the_service",
    "test_a_service_sees_what_another_service_wrote_since_it_last_loaded",
    "test_an_agent_over_its_rate_is_rejected_and_users_are_not_budgeted",
    "test_another_tenants_case_is_out_of_reach",
    "test_command_duplicate_idempotency_key_returns_the_same_result",
    "test_command_with_stale_aggregate_version_conflicts",
    "test_command_without_permission_is_rejected",
    "test_event_replay_reconstructs_expected_state",
    "test_every_answer_but_acceptance_is_recorded_in_the_commandlog",
    "test_human_approval_missing_command_requires_approval",
    "test_idempotency_keys_are_scoped_to_the_actor",
    "test_proposed_escalation_without_evidence_is_rejected",
    "test_publishing_a_policy_that_lets_agents_approve_is_a_validation_error",
    "test_schema_invalid_commands_count_against_the_agents_rate",
    "test_stored_metadata_follows_kurrentdb_conventions",
    "test_the_enforcement_drill_runs_end_to_end",
    "test_two_services_on_one_store_share_one_runs_budget",
    "test_unknown_event_version_is_rejected",
]
