"""The web dashboard (``/ui/``) and the API documentation pages (``/docs``, ``/redoc``), every
asset served by the app itself: nothing is loaded from a CDN, so they work offline.

The dashboard is one static page (``static/index.html`` with ``app.js`` and ``app.css``) that
talks to the same REST API as any client, with the API key the user enters (kept in the
browser's session storage). Its pages and the Content-Security-Policy that confines it to this
origin are served without a key: they hold no data.
"""

from __future__ import annotations

from pathlib import Path

from fastapi import APIRouter, FastAPI
from fastapi.openapi.docs import get_redoc_html, get_swagger_ui_html
from fastapi.responses import FileResponse, HTMLResponse, RedirectResponse
from fastapi.staticfiles import StaticFiles

STATIC = Path(__file__).resolve().parent.parent / "static"
ASSETS = "/ui/static"
# the dashboard loads, connects to and embeds nothing outside this origin
CSP = (
    "default-src 'self'; img-src 'self' data: blob:; style-src 'self'; script-src 'self'; "
    "connect-src 'self'; object-src 'none'; frame-ancestors 'none'; base-uri 'none'"
)

# the documentation pages: FastAPI's inline start-up script and the viewers' inline styles, the
# ReDoc search worker (a blob), and nothing from elsewhere (ReDoc's footer logo is a CDN image)
DOCS_CSP = (
    "default-src 'self'; img-src 'self' data:; style-src 'self' 'unsafe-inline'; "
    "script-src 'self' 'unsafe-inline'; worker-src 'self' blob:; connect-src 'self'; "
    "object-src 'none'; frame-ancestors 'none'; base-uri 'none'"
)

router = APIRouter(include_in_schema=False)


@router.get("/")
async def root() -> RedirectResponse:
    return RedirectResponse("/ui/")


@router.get("/ui")
@router.get("/ui/")
async def dashboard() -> FileResponse:
    headers = {"Content-Security-Policy": CSP, "Cache-Control": "no-cache"}
    return FileResponse(STATIC / "index.html", media_type="text/html", headers=headers)


def install_ui(app: FastAPI, api_docs: bool) -> None:
    """Mount the dashboard, its assets and (``api_docs``) the offline documentation pages."""
    app.include_router(router)
    app.mount(ASSETS, StaticFiles(directory=STATIC), name="ui-static")
    if not api_docs:
        return
    favicon = f"{ASSETS}/favicon.svg"

    @app.get("/docs", include_in_schema=False)
    async def swagger_ui() -> HTMLResponse:
        page = get_swagger_ui_html(
            openapi_url="/openapi.json",
            title=f"{app.title} API",
            swagger_js_url=f"{ASSETS}/vendor/swagger-ui-bundle.js",
            swagger_css_url=f"{ASSETS}/vendor/swagger-ui.css",
            swagger_favicon_url=favicon,
            # the online validator badge would call validator.swagger.io
            swagger_ui_parameters={"validatorUrl": None},
        )
        page.headers["Content-Security-Policy"] = DOCS_CSP
        return page

    @app.get("/redoc", include_in_schema=False)
    async def redoc() -> HTMLResponse:
        page = get_redoc_html(
            openapi_url="/openapi.json",
            title=f"{app.title} API",
            redoc_js_url=f"{ASSETS}/vendor/redoc.standalone.js",
            redoc_favicon_url=favicon,
            with_google_fonts=False,
        )
        page.headers["Content-Security-Policy"] = DOCS_CSP
        return page
