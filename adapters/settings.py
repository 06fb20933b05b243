"""caseledger's settings, read from the environment (prefix CASELEDGER_)."""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import Field, SecretStr, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

_OUTBOX_SWITCH = {"": "auto", "0": "off", "false": "off", "1": "on", "true": "on"}
_ACCESS_LOG_SWITCH = {"": "on", "1": "on", "true": "on", "0": "off", "false": "off"}
_OTEL_SWITCH = {"": "off", "0": "off", "false": "off", "1": "otlp", "on": "otlp", "true": "otlp"}


class Settings(BaseSettings):
    """Every setting has a zero-setup default: the embedded store and SQLite in `data_dir`."""

    model_config = SettingsConfigDict(env_prefix="CASELEDGER_", extra="ignore")

    data_dir: Path = Field(
        default=Path("data"), description="Where the embedded store and read models live."
    )
    eventstore_url: str | None = Field(
        default=None,
        description="A KurrentDB connection string (kurrentdb://...); unset = the embedded store.",
    )
    eventstore_timeout: float = Field(
        default=5.0,
        gt=0,
        allow_inf_nan=False,
        description="Seconds (a decimal number) each event-store call may take, and a stream "
        "read or subscription may wait for its next message; a command against a store that "
        "does not answer within it is a 503 (retry with the same idempotency key).",
    )
    lease_seconds: float = Field(
        default=15.0,
        gt=0,
        allow_inf_nan=False,
        description="Seconds the projection runner's (and the outbox relay's) lease in the read "
        "store lasts after its holder's last renewal: a standby takes over this long after the "
        "holder dies.",
    )
    lease_renew_seconds: float = Field(
        default=5.0,
        gt=0,
        allow_inf_nan=False,
        description="Seconds between a lease holder's renewals (and a standby's tries); keep it "
        "well under lease_seconds.",
    )
    readstore_url: str | None = Field(
        default=None,
        description="postgresql://... for the read models; unset = SQLite in data_dir.",
    )
    nats_url: str = Field(default="nats://127.0.0.1:4222", description="NATS with JetStream.")
    nats_stream: str = Field(
        default="CASELEDGER",
        description="The JetStream stream of the integration events (one per deployment).",
    )
    nats_prefix: str = Field(
        default="caseledger",
        description="Subject prefix of the integration events (`<prefix>.notice.sent.v1`).",
    )
    outbox: Literal["auto", "on", "off"] = Field(
        default="auto",
        description="`serve` runs the outbox relay: auto (when NATS answers, else a notice), "
        "on (NATS must answer) or off (a separate `caseledger outbox relay` does).",
    )
    smtp_host: str | None = Field(
        default=None,
        description="SMTP server for notices; set = `serve` runs the notification worker.",
    )
    smtp_port: int = Field(default=25, description="The SMTP server's port.")
    smtp_sender: str = Field(
        default="notices@caseledger.invalid", description="The From address of notices."
    )
    tokens_file: Path | None = Field(
        default=None, description="TOML file mapping bearer tokens to actors."
    )
    eventstore_host: str = Field(default="127.0.0.1", description="Embedded store's address.")
    eventstore_port: int = Field(default=2113, description="Embedded store's port.")
    embedded_path: Literal["inprocess", "grpc"] = Field(
        default="inprocess",
        description="How the process hosting the embedded store reaches it: inprocess (its "
        "storage and writer directly) or grpc (over loopback, as other processes do; for "
        "comparisons and diagnosis). Other processes always use gRPC.",
    )
    runner_in: Literal["auto", "child", "thread"] = Field(
        default="auto",
        description="Where a process that hosts the embedded store (on disk) runs its projection "
        "runner: child (a child process it starts, supervises and restarts, reading the store's "
        "file; the commands keep the interpreter to themselves) or thread (a thread of its own). "
        "auto: child for `caseledger serve`, thread for the Python API's `bootstrap()`. A "
        "process that does not host the store runs the runner in a thread.",
    )
    http_host: str = Field(default="127.0.0.1", description="Where `serve`'s HTTP API binds.")
    http_port: int = Field(default=8000, description="`serve`'s HTTP API port (0 = any free).")
    http_max_body: int = Field(
        default=1_048_576,
        ge=1,
        description="Bytes a request body may have on /v1 and on MCP over HTTP; a larger one "
        "is answered 413 before it is parsed.",
    )
    console_secret: SecretStr | None = Field(
        default=None,
        min_length=16,
        description="Signs the web console's session cookies (/console); unset = a secret "
        "generated into data_dir/console-secret. Set the same one on every replica.",
    )
    otel: Literal["off", "console", "otlp"] = Field(
        default="off",
        description="OpenTelemetry traces, metrics and JSON logs: off, console (stderr) or otlp "
        "(OTLP/HTTP to OTEL_EXPORTER_OTLP_ENDPOINT); 1/on/true mean otlp.",
    )
    access_log: Literal["on", "off"] = Field(
        default="on",
        description="`serve` logs one line per HTTP request to stderr (JSON when otel is on); "
        "off silences it. 1/true mean on, 0/false off.",
    )

    @field_validator("outbox", mode="before")
    @classmethod
    def _outbox_switch(cls, value: object) -> object:
        """`1`/`true` mean on, `0`/`false` off, empty auto."""
        if isinstance(value, str):
            value = value.strip().lower()
            return _OUTBOX_SWITCH.get(value, value)
        return value

    @field_validator("smtp_host", "console_secret", mode="before")
    @classmethod
    def _unset_when_empty(cls, value: object) -> object:
        return None if isinstance(value, str) and not value.strip() else value

    @field_validator("access_log", mode="before")
    @classmethod
    def _access_log_switch(cls, value: object) -> object:
        if isinstance(value, str):
            value = value.strip().lower()
            return _ACCESS_LOG_SWITCH.get(value, value)
        return value

    @field_validator("otel", mode="before")
    @classmethod
    def _otel_switch(cls, value: object) -> object:
        """One switch: `CASELEDGER_OTEL=1` turns it on (OTLP), `0`/empty leaves it off."""
        if isinstance(value, str):
            value = value.strip().lower()
            return _OTEL_SWITCH.get(value, value)
        return value
