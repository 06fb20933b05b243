"""deploy/compose.yaml agrees with the code: every CASELEDGER_* variable is a setting with a
valid value, every `caseledger` command and option exists, the services reference each other
correctly and the KurrentDB nodes form one 3-node cluster. (No container engine runs here:
this is the only check the deployment gets.)"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest
import typer.main
import yaml

from caseledger.adapters.cli.app import app as cli
from caseledger.adapters.settings import Settings

DEPLOY = Path(__file__).resolve().parents[3] / "deploy"
NODES = ("kurrentdb1", "kurrentdb2", "kurrentdb3")
CASELEDGER = ("api", "projections", "relay", "notifications", "mcp")
_DEFAULTED = re.compile(r"\$\{(\w+):-([^}]*)\}")


def expand(value: str) -> str:
    """Compose's `${VAR:-default}` as it resolves with VAR unset."""
    return _DEFAULTED.sub(lambda m: m.group(2), value)


@pytest.fixture(scope="module")
def compose() -> dict[str, Any]:
    document: dict[str, Any] = yaml.safe_load((DEPLOY / "compose.yaml").read_text())
    return document


@pytest.fixture(scope="module")
def services(compose: dict[str, Any]) -> dict[str, Any]:
    found: dict[str, Any] = compose["services"]
    return found


def env(service: dict[str, Any]) -> dict[str, str]:
    return {k: expand(str(v)) for k, v in (service.get("environment") or {}).items()}


def test_the_stack_has_the_cluster_the_stores_and_the_five_processes(
    services: dict[str, Any],
) -> None:
    assert set(services) == {*NODES, "postgres", "nats", *CASELEDGER}


@pytest.mark.parametrize("name", CASELEDGER)
def test_every_caseledger_variable_is_a_setting_with_a_valid_value(
    services: dict[str, Any], name: str
) -> None:
    variables = {k: v for k, v in env(services[name]).items() if k.startswith("CASELEDGER_")}
    fields = {k.removeprefix("CASELEDGER_").lower(): v for k, v in variables.items()}

    assert set(fields) <= set(Settings.model_fields), set(fields) - set(Settings.model_fields)
    settings = Settings.model_validate(fields)
    assert settings.eventstore_url is not None, "production names the KurrentDB cluster"
    assert settings.readstore_url is not None, "production keeps the read models in PostgreSQL"


@pytest.mark.parametrize("name", CASELEDGER)
def test_every_process_points_at_the_stack_services(services: dict[str, Any], name: str) -> None:
    settings = env(services[name])
    eventstore = urlsplit(settings["CASELEDGER_EVENTSTORE_URL"])
    readstore = urlsplit(settings["CASELEDGER_READSTORE_URL"])
    nats = urlsplit(settings["CASELEDGER_NATS_URL"])
    postgres = env(services["postgres"])

    assert eventstore.scheme == "kurrentdb+discover"
    seeds = [seed.split(":") for seed in eventstore.netloc.split(",")]
    assert sorted(host for host, _ in seeds) == list(NODES)
    assert {port for _, port in seeds} == {env(services["kurrentdb1"])["KURRENTDB_NODE_PORT"]}
    assert (readstore.scheme, readstore.hostname, readstore.port) == (
        "postgresql",
        "postgres",
        5432,
    )
    assert readstore.username == postgres["POSTGRES_USER"]
    assert readstore.password == postgres["POSTGRES_PASSWORD"]
    assert readstore.path.lstrip("/") == postgres["POSTGRES_DB"]
    assert (nats.hostname, nats.port) == ("nats", 4222)
    assert set(services[name]["depends_on"]) == {*NODES, "postgres", "nats"}


def test_tls_in_the_connection_string_matches_the_nodes(services: dict[str, Any]) -> None:
    insecure = {env(services[n])["KURRENTDB_INSECURE"] for n in NODES}
    url = env(services["api"])["CASELEDGER_EVENTSTORE_URL"]

    assert insecure == {"true"}
    assert url.endswith("?tls=false")


def test_the_kurrentdb_nodes_form_one_three_node_cluster(services: dict[str, Any]) -> None:
    volumes = set()
    for node in NODES:
        settings = env(services[node])
        assert settings["KURRENTDB_CLUSTER_SIZE"] == str(len(NODES))
        assert settings["KURRENTDB_DISCOVER_VIA_DNS"] == "false"
        assert settings["KURRENTDB_ADVERTISE_HOST_TO_CLIENT_AS"] == node
        seeds = {seed.split(":")[0] for seed in settings["KURRENTDB_GOSSIP_SEED"].split(",")}
        assert seeds == set(NODES) - {node}, f"{node} must gossip with the other two"
        ports = {seed.split(":")[1] for seed in settings["KURRENTDB_GOSSIP_SEED"].split(",")}
        assert ports == {settings["KURRENTDB_NODE_PORT"]}
        volumes.update(services[node]["volumes"])
    assert len(volumes) == len(NODES), "each node keeps its own data"


def test_nats_runs_jetstream_on_a_volume(services: dict[str, Any]) -> None:
    command = services["nats"]["command"]

    assert "--jetstream" in command or "-js" in command
    store = command[command.index("--store_dir") + 1]
    assert any(v.endswith(f":{store}") for v in services["nats"]["volumes"])


def test_every_dependency_and_named_volume_is_declared(compose: dict[str, Any]) -> None:
    services = compose["services"]
    declared = set(compose.get("volumes") or {})
    for name, service in services.items():
        assert set(service.get("depends_on") or {}) <= set(services), name
        for volume in service.get("volumes") or []:
            source = volume.split(":")[0]
            if not source.startswith((".", "/")):
                assert source in declared, f"{name} uses undeclared volume {source}"


def _cli_command(words: list[str]) -> Any:
    """The click command `caseledger WORDS...` resolves to (typer vendors its own click)."""
    command: Any = typer.main.get_command(cli)
    while words and words[0] in getattr(command, "commands", {}):
        command = command.commands[words.pop(0)]
    return command


@pytest.mark.parametrize("name", CASELEDGER)
def test_the_processes_run_existing_cli_commands_with_existing_options(
    services: dict[str, Any], name: str
) -> None:
    given_command = list(services[name]["command"])
    words = list(given_command)
    command = _cli_command(words)  # consumes the command's path: `outbox relay`, `serve`
    path = given_command[: len(given_command) - len(words)]
    options = {o for p in command.params for o in (*p.opts, *p.secondary_opts)}

    assert path, f"{given_command} names no caseledger command"
    assert command.name == path[-1]
    assert not hasattr(command, "commands"), f"{path} is a group, not a command"
    given = [w for w in words if w.startswith("--")]
    assert set(given) <= options, set(given) - options


@pytest.mark.parametrize(("name", "port"), [("api", "8000"), ("mcp", "8001")])
def test_published_ports_are_the_ports_the_processes_listen_on(
    services: dict[str, Any], name: str, port: str
) -> None:
    command = services[name]["command"]

    assert command[command.index("--port") + 1] == port
    assert f"{port}:{port}" in services[name]["ports"]
    assert command[command.index("--host") + 1] == "0.0.0.0"
    assert "EXPOSE 8000 8001" in (DEPLOY / "Dockerfile").read_text()


def test_the_mcp_server_leaves_projection_to_the_runner_and_authenticates_by_token(
    services: dict[str, Any],
) -> None:
    command = services["mcp"]["command"]
    settings = env(services["mcp"])

    assert "--no-runner" in command
    assert not {"--token", "--tenant", "--agent-name"} & set(command), "identity per request"
    mounted = {v.split(":")[1] for v in services["mcp"]["volumes"]}
    assert settings["CASELEDGER_TOKENS_FILE"] in mounted


def test_one_runner_one_relay_and_one_worker_run_beside_a_stateless_api(
    services: dict[str, Any],
) -> None:
    api = env(services["api"])

    assert services["projections"]["command"] == ["projections", "run"]
    assert "entrypoint" not in services["projections"], "the image's `caseledger` runs it"
    assert "--no-runner" in services["api"]["command"]
    assert services["relay"]["command"] == ["outbox", "relay"]
    assert Settings.model_validate({"outbox": api["CASELEDGER_OUTBOX"]}).outbox == "off"
    assert services["notifications"]["command"] == ["notifications", "run"]
    assert "CASELEDGER_SMTP_HOST" not in api, "the API process sends no notices itself"
    assert Settings.model_validate(
        {"smtp_host": env(services["notifications"])["CASELEDGER_SMTP_HOST"]}
    ).smtp_host


@pytest.mark.parametrize("name", ["relay", "notifications"])
def test_the_relay_and_the_worker_keep_their_ledgers_on_a_volume(
    services: dict[str, Any], name: str
) -> None:
    data_dir = env(services[name])["CASELEDGER_DATA_DIR"]

    assert any(v.endswith(f":{data_dir}") for v in services[name]["volumes"])


def test_the_image_installs_the_three_layers_and_runs_caseledger() -> None:
    dockerfile = (DEPLOY / "Dockerfile").read_text()

    for layer in ("domain", "projections", "adapters"):
        assert f"COPY {layer} ./{layer}" in dockerfile
    assert 'ENTRYPOINT ["caseledger"]' in dockerfile
    assert "USER caseledger" in dockerfile
