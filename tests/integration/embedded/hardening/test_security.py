"""The embedded store binds loopback by default; elsewhere it needs TLS and the admin login."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
import trustme
from kurrentdbclient import KurrentDBClient, NewEvent, StreamState
from kurrentdbclient.exceptions import UnauthenticatedError

from caseledger.adapters.eventstore.embedded.security import TlsSettings
from caseledger.adapters.eventstore.embedded.server import EmbeddedServer, ServerStartError

PASSWORD = "correct horse"


@pytest.fixture
def ca() -> trustme.CA:
    return trustme.CA()


@pytest.fixture
def tls(tmp_path: Path, ca: trustme.CA) -> TlsSettings:
    cert = ca.issue_cert("127.0.0.1", "localhost")
    cert.private_key_pem.write_to_path(str(tmp_path / "key.pem"))
    cert.cert_chain_pems[0].write_to_path(str(tmp_path / "cert.pem"))
    return TlsSettings(tmp_path / "cert.pem", tmp_path / "key.pem", PASSWORD)


@pytest.fixture
def secure_server(tmp_path: Path, tls: TlsSettings) -> Iterator[EmbeddedServer]:
    server = EmbeddedServer.start(tmp_path / "db", tls=tls)
    yield server
    server.stop(grace=1.0)


def _client(server: EmbeddedServer, ca: trustme.CA, password: str) -> KurrentDBClient:
    return KurrentDBClient(
        uri=f"kurrentdb://admin:{password}@{server.host}:{server.port}?tls=true",
        root_certificates=ca.cert_pem.bytes().decode(),
    )


def test_listening_off_loopback_without_tls_is_refused(tmp_path: Path) -> None:
    with pytest.raises(ServerStartError, match="without TLS"):
        EmbeddedServer.start(tmp_path, host="0.0.0.0")


def test_tls_without_an_admin_password_is_refused(tmp_path: Path, tls: TlsSettings) -> None:
    no_password = TlsSettings(tls.cert_file, tls.key_file, "")
    with pytest.raises(ServerStartError, match="admin password"):
        EmbeddedServer.start(tmp_path, host="0.0.0.0", tls=no_password)


def test_admin_with_the_right_password_appends_and_reads_over_tls(
    secure_server: EmbeddedServer, ca: trustme.CA
) -> None:
    client = _client(secure_server, ca, PASSWORD)
    try:
        client.append_to_stream(
            "case-1", current_version=StreamState.NO_STREAM, events=[NewEvent(type="t", data=b"1")]
        )
        assert [e.data for e in client.get_stream("case-1")] == [b"1"]
    finally:
        client.close()


def test_a_wrong_password_is_unauthenticated_and_writes_nothing(
    secure_server: EmbeddedServer, ca: trustme.CA
) -> None:
    intruder = _client(secure_server, ca, "guess")
    try:
        with pytest.raises(UnauthenticatedError):
            intruder.append_to_stream(
                "case-1", current_version=StreamState.ANY, events=[NewEvent(type="t", data=b"")]
            )
    finally:
        intruder.close()
    admin = _client(secure_server, ca, PASSWORD)
    try:
        assert admin.get_current_version("case-1") is StreamState.NO_STREAM
    finally:
        admin.close()
