"""Transport security for the embedded store: loopback by default, TLS + admin login elsewhere.

Rule: without TLS the store listens on loopback only. Listening anywhere else needs a
certificate, a key and the admin password; every call must then carry HTTP basic auth for
`admin`, as KurrentDB's clients send it in secure mode (`kurrentdb://admin:PASS@host?tls=true`).
There are no ACLs: the admin may do everything, nobody else anything.
"""

from __future__ import annotations

import base64
import hmac
import ipaddress
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import grpc

ADMIN_USER = "admin"


class SecurityConfigError(ValueError):
    """The listen address and the TLS settings do not fit together; the message says how."""


@dataclass(frozen=True)
class TlsSettings:
    cert_file: Path
    key_file: Path
    admin_password: str

    def server_credentials(self) -> grpc.ServerCredentials:
        try:
            pair = (self.key_file.read_bytes(), self.cert_file.read_bytes())
        except OSError as error:
            raise SecurityConfigError(f"cannot read the TLS certificate or key: {error}") from error
        return grpc.ssl_server_credentials([pair])


def is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def check_listen(host: str, tls: TlsSettings | None) -> None:
    if tls is None and not is_loopback(host):
        raise SecurityConfigError(
            f"refusing to listen on {host} without TLS: give --tls-cert, --tls-key and "
            "--admin-password (or bind 127.0.0.1)"
        )
    if tls is not None and not tls.admin_password:
        raise SecurityConfigError("TLS needs an admin password for clients to log in with")


def _expected_header(password: str) -> bytes:
    return b"Basic " + base64.b64encode(f"{ADMIN_USER}:{password}".encode())


class BasicAuthInterceptor(grpc.ServerInterceptor):
    """Refuses every call without the admin's basic-auth header: UNAUTHENTICATED."""

    def __init__(self, password: str) -> None:
        self._expected = _expected_header(password)

    def intercept_service(
        self,
        continuation: Callable[[grpc.HandlerCallDetails], grpc.RpcMethodHandler[Any, Any] | None],
        handler_call_details: grpc.HandlerCallDetails,
    ) -> grpc.RpcMethodHandler[Any, Any] | None:
        metadata = dict(handler_call_details.invocation_metadata or ())
        given = metadata.get("authorization", b"")
        if isinstance(given, str):
            given = given.encode()
        if hmac.compare_digest(given, self._expected):
            return continuation(handler_call_details)
        return _refuse


def _deny(request: Any, context: grpc.ServicerContext) -> None:
    context.abort(grpc.StatusCode.UNAUTHENTICATED, "Bad username or password")


_refuse: grpc.RpcMethodHandler[Any, Any] = grpc.stream_stream_rpc_method_handler(_deny)
