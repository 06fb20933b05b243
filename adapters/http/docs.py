"""`/docs` (Swagger UI) and `/redoc` served from assets in this package: no CDN, so both work
without internet access.

The assets are the npm packages' own files, unchanged (`assets/<ui>/`, with their licences):
`swagger-ui-bundle.js`, `swagger-ui.css` and `favicon-32x32.png` from `SWAGGER_UI`, and
`bundles/redoc.standalone.js` from `REDOC`. To update one, `npm pack <package>@<version>`,
copy the same files over and change the version here and in the README."""

from __future__ import annotations

from pathlib import Path
from typing import Final

from fastapi import FastAPI, Request
from fastapi.openapi.docs import get_redoc_html, get_swagger_ui_html
from fastapi.responses import HTMLResponse
from fastapi.staticfiles import StaticFiles

SWAGGER_UI: Final = ("swagger-ui-dist", "5.36.0")
REDOC: Final = ("redoc", "2.5.4")
ASSETS: Final = Path(__file__).parent / "assets"
ASSETS_PATH: Final = "/docs/assets"


def install_docs(api: FastAPI) -> None:
    """Serve `/docs`, `/redoc` and their assets (`/docs/assets/...`); build `api` with
    `docs_url=None, redoc_url=None` so FastAPI's CDN-loading pages are not served too."""
    # Links are followed (strict editable installs link each file); `..` still cannot leave
    # the folder.
    assets = StaticFiles(directory=ASSETS, follow_symlink=True)
    api.mount(ASSETS_PATH, assets, name="docs-assets")

    @api.get("/docs", include_in_schema=False)
    def swagger_ui(request: Request) -> HTMLResponse:
        assets = _assets(request)
        return get_swagger_ui_html(
            openapi_url=_root(request) + (api.openapi_url or "/openapi.json"),
            title=f"{api.title} - Swagger UI",
            swagger_js_url=f"{assets}/swagger-ui/swagger-ui-bundle.js",
            swagger_css_url=f"{assets}/swagger-ui/swagger-ui.css",
            swagger_favicon_url=f"{assets}/swagger-ui/favicon-32x32.png",
        )

    @api.get("/redoc", include_in_schema=False)
    def redoc(request: Request) -> HTMLResponse:
        assets = _assets(request)
        return get_redoc_html(
            openapi_url=_root(request) + (api.openapi_url or "/openapi.json"),
            title=f"{api.title} - ReDoc",
            redoc_js_url=f"{assets}/redoc/redoc.standalone.js",
            redoc_favicon_url=f"{assets}/swagger-ui/favicon-32x32.png",
            with_google_fonts=False,
        )


def _root(request: Request) -> str:
    return str(request.scope.get("root_path", "")).rstrip("/")


def _assets(request: Request) -> str:
    return _root(request) + ASSETS_PATH
