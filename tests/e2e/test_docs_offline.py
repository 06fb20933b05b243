"""`/docs` and `/redoc` with no network but loopback: each page loads only what this server
serves (the Swagger UI and ReDoc files installed with the package), and the document it
loads lists the API's operations. Where Debian's chromium is installed, a headless browser
that can reach nothing but loopback renders every operation on both pages."""

from __future__ import annotations

import re
import shutil
import socket
import subprocess
from importlib import resources
from pathlib import Path
from typing import Any

import httpx
import pytest

from caseledger.adapters.http.docs import REDOC, SWAGGER_UI
from tests.e2e.test_reason_table import ROOT
from tests.support.live_service import Live

OPERATIONS = {
    ("post", "/v1/commands"),
    ("post", "/v1/queries"),
    ("get", "/v1/audit/cases/{case_id}"),
    ("get", "/v1/audit/correlations/{correlation_id}"),
    ("post", "/v1/audit/what-if"),
    ("get", "/healthz"),
    ("get", "/readyz"),
}
CHROMIUM = shutil.which("chromium")
LINKS = re.compile(r"""(?:src|href|spec-url)\s*=\s*["']([^"']+)["']|url:\s*'([^']+)'""")


@pytest.fixture
def offline(monkeypatch: pytest.MonkeyPatch) -> list[Any]:
    """Any connection from this process to an address other than loopback fails (and is
    listed)."""
    tried: list[Any] = []
    connect = socket.socket.connect

    def loopback_only(sock: socket.socket, address: Any) -> None:
        host = address[0] if isinstance(address, tuple) else address
        if host not in ("127.0.0.1", "::1", "localhost"):
            tried.append(address)
            raise OSError("no network in this test")
        connect(sock, address)

    monkeypatch.setattr(socket.socket, "connect", loopback_only)
    return tried


def links(page: str) -> list[str]:
    return [a or b for a, b in LINKS.findall(page)]


@pytest.mark.parametrize(
    ("page", "script", "marker"),
    [
        ("/docs", "/docs/assets/swagger-ui/swagger-ui-bundle.js", b"SwaggerUIBundle"),
        ("/redoc", "/docs/assets/redoc/redoc.standalone.js", b"Redoc"),
    ],
)
def test_the_docs_page_loads_everything_from_this_server_and_finds_the_operations(
    live: Live, offline: list[Any], page: str, script: str, marker: bytes
) -> None:
    with httpx.Client(base_url=live.url, timeout=30) as http:
        html = http.get(page)
        assert html.status_code == 200
        assert html.headers["content-type"].startswith("text/html")
        found = links(html.text)
        assert script in found
        assert "/openapi.json" in found
        for link in found:
            assert link.startswith("/"), f"{page} loads {link} from elsewhere"
            answer = http.get(link)
            assert answer.status_code == 200, link
            assert answer.content, link
        assert marker in http.get(script).content
        document = http.get("/openapi.json").json()
    operations = {(m, p) for p, methods in document["paths"].items() for m in methods}
    assert operations == OPERATIONS
    assert not re.search(r"""(src|href)=["']https?:""", html.text)
    assert offline == []


def test_the_assets_are_installed_with_the_package_with_their_licences() -> None:
    assets = resources.files("caseledger.adapters.http") / "assets"
    for name in ("swagger-ui-bundle.js", "swagger-ui.css", "favicon-32x32.png", "LICENSE"):
        assert (assets / "swagger-ui" / name).is_file(), name
    for name in ("redoc.standalone.js", "LICENSE"):
        assert (assets / "redoc" / name).is_file(), name


def test_the_readme_names_the_packages_and_versions_the_assets_come_from() -> None:
    readme = (ROOT / "README.md").read_text()
    for package, version in (SWAGGER_UI, REDOC):
        assert f"`{package}` {version}" in readme


def test_a_path_outside_the_assets_folder_is_not_served(live: Live) -> None:
    answer = httpx.get(f"{live.url}/docs/assets/../../app.py")
    escaped = httpx.get(f"{live.url}/docs/assets/%2e%2e/docs.py")

    assert answer.status_code == 404
    assert escaped.status_code == 404


@pytest.mark.slow
@pytest.mark.skipif(
    CHROMIUM is None,
    reason="no chromium here (Debian's `apt-get install chromium`); the pages' links and the "
    "document are checked without a browser above",
)
@pytest.mark.parametrize("page", ["/docs", "/redoc"])
def test_a_browser_with_no_network_renders_every_operation(
    live: Live, tmp_path: Path, page: str
) -> None:
    assert CHROMIUM is not None
    rendered = subprocess.run(
        [
            CHROMIUM,
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            f"--user-data-dir={tmp_path}",
            "--proxy-server=http://127.0.0.1:9",  # nothing answers there: only loopback loads
            "--virtual-time-budget=30000",
            "--dump-dom",
            f"{live.url}{page}",
        ],
        capture_output=True,
        text=True,
        timeout=300,
    )

    assert rendered.returncode == 0, rendered.stderr[-2000:]
    for _, path in OPERATIONS:
        assert path in rendered.stdout, (page, path)
    if page == "/redoc":
        assert "open_case" in rendered.stdout
