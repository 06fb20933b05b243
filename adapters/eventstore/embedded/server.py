"""The embedded, KurrentDB-wire-compatible event store server (work in progress)."""

from __future__ import annotations

from pathlib import Path


class EmbeddedServer:
    """A running embedded store. `url` is a KurrentDB connection string for kurrentdbclient."""

    @classmethod
    def start(
        cls,
        data_dir: Path | None,
        host: str = "127.0.0.1",
        port: int = 0,
        *,
        mem_db: bool = False,
    ) -> EmbeddedServer:
        """Start serving on host:port (0 = any free port) in background threads."""
        raise NotImplementedError

    @property
    def url(self) -> str:
        """e.g. 'kurrentdb://127.0.0.1:2113?tls=false'."""
        raise NotImplementedError

    def stop(self, grace: float = 5.0) -> None:
        """Stop accepting calls, let in-flight writes finish, close the storage."""
        raise NotImplementedError
