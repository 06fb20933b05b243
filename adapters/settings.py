"""caseledger's settings, read from the environment (prefix CASELEDGER_)."""

from __future__ import annotations

from pathlib import Path

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict


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
    readstore_url: str | None = Field(
        default=None,
        description="postgresql://... for the read models; unset = SQLite in data_dir.",
    )
    nats_url: str = Field(default="nats://127.0.0.1:4222", description="NATS with JetStream.")
    tokens_file: Path | None = Field(
        default=None, description="TOML file mapping bearer tokens to actors."
    )
    eventstore_host: str = Field(default="127.0.0.1", description="Embedded store's address.")
    eventstore_port: int = Field(default=2113, description="Embedded store's port.")
