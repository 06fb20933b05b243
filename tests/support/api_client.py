"""A small client for the HTTP API, as a test (or a domain team) would use it."""

from __future__ import annotations

from typing import Any

import httpx


class ApiClient:
    def __init__(self, base_url: str, token: str | None) -> None:
        headers = {} if token is None else {"Authorization": f"Bearer {token}"}
        self._http = httpx.Client(base_url=base_url, headers=headers, timeout=30.0)

    def as_(self, token: str | None) -> ApiClient:
        """The same service, another caller."""
        return ApiClient(str(self._http.base_url), token)

    def command(self, command_type: str, payload: dict[str, Any], **fields: Any) -> httpx.Response:
        return self._http.post(
            "/v1/commands", json={"command_type": command_type, "payload": payload, **fields}
        )

    def query(self, query_type: str, payload: dict[str, Any], **fields: Any) -> httpx.Response:
        return self._http.post(
            "/v1/queries", json={"query_type": query_type, "payload": payload, **fields}
        )

    def get(self, path: str) -> httpx.Response:
        return self._http.get(path)

    def post(self, path: str, **kwargs: Any) -> httpx.Response:
        return self._http.post(path, **kwargs)

    def close(self) -> None:
        self._http.close()
