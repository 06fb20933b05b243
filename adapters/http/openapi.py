"""The OpenAPI document, typed: `POST /v1/commands` and `POST /v1/queries` take a union of one
body per command / query type, discriminated by `command_type` / `query_type`, each with its
payload's schema and one example.

Contract: this is documentation only. The routes still bind the loose envelope
(`CommandRequest` / `QueryRequest`, any payload object) and the command and query services
validate the payload, so a refusal is recorded in the command log, counted against an agent's
rate limit and answered with the same problem body as before. The types listed are the
services' route tables (`TYPES`), never a list of their own."""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Final

from fastapi import FastAPI
from fastapi.openapi.utils import get_openapi
from pydantic import BaseModel
from pydantic.json_schema import models_json_schema

from caseledger.adapters.http.examples import COMMAND_EXAMPLES, QUERY_EXAMPLES
from caseledger.domain.application.routes import ROUTES as COMMAND_ROUTES
from caseledger.domain.application.routes import Route, StreamRule
from caseledger.domain.shared.policy_rules import PolicyRules
from caseledger.projections.queries import views
from caseledger.projections.queries.service import ROUTES as QUERY_ROUTES
from caseledger.projections.queries.service import QueryRoute

REF: Final = "#/components/schemas/{model}"


@dataclass(frozen=True)
class QueryAnswer:
    """What an `ok` query answer holds in `data` besides `freshness`: its keys and the view
    each is built from (a list of them where `many`)."""

    keys: tuple[str, ...]
    view: type[BaseModel]
    many: bool = False


QUERY_ANSWERS: Final[Mapping[str, QueryAnswer]] = {
    "get_case_summary": QueryAnswer(("case_summary",), views.CaseSummaryView),
    "list_cases": QueryAnswer(("case_dashboard",), views.CaseDashboardView),
    "get_case_agent_context": QueryAnswer(("case_agent_context",), views.CaseAgentContextView),
    "search_evidence": QueryAnswer(("evidence",), views.EvidenceHit, many=True),
    "list_pending_approvals": QueryAnswer(
        ("pending_approvals", "next_offset"), views.PendingApproval, many=True
    ),
    "list_notice_drafts": QueryAnswer(
        ("notice_drafts", "next_offset"), views.NoticeDraftView, many=True
    ),
}
"""Documented per query type; a test asks each query of a live service and compares."""


@dataclass(frozen=True)
class Union:
    """One typed body per type of a route table, as the document shows them."""

    path: str
    envelope: str
    discriminator: str
    suffix: str
    payloads: Mapping[str, type[BaseModel]]
    examples: Mapping[str, dict[str, Any]]
    notes: Mapping[str, str]
    schema_of: Mapping[str, str]
    version_of: Mapping[str, str]


def _command_note(route: Route) -> str:
    issuers = ", ".join(sorted(issuer.value for issuer in route.issuers))
    acts = {
        StreamRule.NEW: "creates its aggregate (its id must be new)",
        StreamRule.EXISTING: "acts on an existing aggregate",
        StreamRule.ANY: "creates or appends to its aggregate",
    }[route.stream_rule]
    return f"Issued by: {issuers}. It {acts}."


def _query_note(route: QueryRoute, answer: QueryAnswer) -> str:
    readers = ", ".join(sorted(role.value for role in route.roles))
    agents = "agents (with a run id), " if route.agents else ""
    shown = " and ".join(f"`data.{key}`" for key in answer.keys)
    view = f"a list of {answer.view.__name__}" if answer.many else answer.view.__name__
    return (
        f"Asked by: {agents}users with a role of {readers}, the system. Answers {shown} "
        f"({view}) and `data.freshness` (Freshness), from the view `{route.view}`."
    )


COMMANDS: Final = Union(
    path="/v1/commands",
    envelope="CommandRequest",
    discriminator="command_type",
    suffix="Command",
    payloads={name: route.body for name, route in COMMAND_ROUTES.items()},
    examples=COMMAND_EXAMPLES,
    notes={name: _command_note(route) for name, route in COMMAND_ROUTES.items()},
    schema_of={name: route.payload_schema for name, route in COMMAND_ROUTES.items()},
    version_of={name: route.command_version for name, route in COMMAND_ROUTES.items()},
)
QUERIES: Final = Union(
    path="/v1/queries",
    envelope="QueryRequest",
    discriminator="query_type",
    suffix="Query",
    payloads={name: route.payload for name, route in QUERY_ROUTES.items()},
    examples=QUERY_EXAMPLES,
    notes={name: _query_note(route, QUERY_ANSWERS[name]) for name, route in QUERY_ROUTES.items()},
    schema_of={name: f"{name}.v1" for name in QUERY_ROUTES},
    version_of=dict.fromkeys(QUERY_ROUTES, "1"),
)
TYPES: Final = (COMMANDS, QUERIES)


def install_typed_openapi(api: FastAPI) -> None:
    """Serve `api`'s OpenAPI document with typed command and query bodies (built once)."""

    def openapi() -> dict[str, Any]:
        if api.openapi_schema is None:
            document = get_openapi(
                title=api.title,
                version=api.version,
                description=api.description,
                routes=api.routes,
            )
            api.openapi_schema = typed(document)
        return api.openapi_schema

    api.openapi = openapi  # type: ignore[method-assign]


def typed(document: dict[str, Any]) -> dict[str, Any]:
    """`document` with each union's typed bodies in place of its loose envelope."""
    schemas: dict[str, Any] = document.setdefault("components", {}).setdefault("schemas", {})
    models: list[type[BaseModel]] = [views.Freshness, PolicyRules]  # the what-if's body
    models += [answer.view for answer in QUERY_ANSWERS.values()]
    for union in TYPES:
        models += list(union.payloads.values())
    refs = _add_models(schemas, models)
    for union in TYPES:
        _type_body(document, schemas, union, refs)
    return document


def _add_models(schemas: dict[str, Any], models: list[type[BaseModel]]) -> dict[type, str]:
    """Add the models' schemas to the components; each model -> its `$ref`."""
    unique = list(dict.fromkeys(models))
    keyed, top = models_json_schema([(m, "validation") for m in unique], ref_template=REF)
    for name, schema in top.get("$defs", {}).items():
        if schemas.setdefault(name, schema) != schema:
            raise ValueError(f"two schemas named {name} in the OpenAPI document")
    return {model: keyed[(model, "validation")]["$ref"] for model in unique}


def _type_body(
    document: dict[str, Any], schemas: dict[str, Any], union: Union, refs: dict[type, str]
) -> None:
    envelope = schemas.pop(union.envelope)
    mapping: dict[str, str] = {}
    examples: dict[str, Any] = {}
    for name, payload in union.payloads.items():
        component = _camel(name) + union.suffix
        example = {union.discriminator: name, "payload": union.examples[name]}
        schemas[component] = _variant(envelope, union, name, refs[payload], example)
        mapping[name] = REF.format(model=component)
        examples[name] = {"summary": name, "value": example}
    content = document["paths"][union.path]["post"]["requestBody"]["content"]
    content["application/json"] = {
        "schema": {
            "oneOf": [{"$ref": ref} for ref in mapping.values()],
            "discriminator": {"propertyName": union.discriminator, "mapping": mapping},
        },
        "examples": examples,
    }


def _variant(
    envelope: dict[str, Any], union: Union, name: str, payload_ref: str, example: dict[str, Any]
) -> dict[str, Any]:
    """The envelope with the type fixed to `name`, its schema version and its payload."""
    properties = dict(envelope["properties"])
    properties[union.discriminator] = {"type": "string", "const": name}
    properties["payload"] = {"$ref": payload_ref}
    properties["payload_schema"] = {
        "anyOf": [{"type": "string", "const": union.schema_of[name]}, {"type": "null"}],
        "description": f"Default: `{union.schema_of[name]}`, the only version read.",
    }
    version = union.discriminator.replace("_type", "_version")
    properties[version] = {"type": "string", "const": union.version_of[name], "default": "1"}
    return {
        "title": name,
        "description": union.notes[name],
        "type": "object",
        "properties": properties,
        "required": sorted({*envelope.get("required", ()), union.discriminator, "payload"}),
        "additionalProperties": False,
        "examples": [example],
    }


def _camel(name: str) -> str:
    return "".join(part.capitalize() for part in re.split(r"[_\W]+", name) if part)
