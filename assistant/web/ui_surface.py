"""The chat UI's surface: which paths outside ``/v1`` exist, which are open, and which spend a token.

An allow-list, not a list of Gradio's routes to hide: Gradio mounts dozens of routes (uploads, file
serving, monitoring, its 34 MB static folder with an ffmpeg build …) and adds more in new versions; the
page uses a handful. Everything else under the UI answers ``404`` in the API's JSON shape — also a page
route added later, until it is listed here (fail closed). What the page needs was recorded by loading it
in Chromium and using every tab:

* **open** (no session): health, the API's docs and their vendor files (``/static/vendor/<name>``);
* **pages** — ``/`` and ``/documents/<id>`` — and Gradio's ``/config``: charged to the session's bucket;
* **Gradio calls** — ``queue/join``, ``queue/data``, ``heartbeat/<hash>``, ``cancel``: charged;
* **assets** — Gradio's frontend build (``/assets/<file>``, about 75 files per page load), ``/theme.css``,
  our ``/static/app/<file>`` and the one file of Gradio's static folder the page loads: not charged (a
  page load would spend a minute's budget on them), behind the session only where the page is (a
  closed UI): code and styles carry no data, so whoever may load the page may load them.
"""

from __future__ import annotations

OPEN_PATHS = frozenset(
    {"/healthz", "/readyz", "/docs", "/docs/oauth2-redirect", "/redoc", "/openapi.json", "/favicon.ico"}
)
VENDOR_PREFIX = "/static/vendor/"
#: The embeddable widget's script and its calls have a door of their own (``widget_gate.py``): origins,
#: public UI only, the client IP's bucket.
WIDGET_PATHS = frozenset({"/widget.js"})
WIDGET_PREFIX = "/widget/"
#: Paths guarded like the API (keys, rate limit), not as the UI: ``/v1`` and MCP's ``/mcp``.
API_PREFIXES = ("/v1", "/mcp")
GRADIO_PREFIX = "/gradio_api/"
GRADIO_JOIN, GRADIO_DATA, GRADIO_CANCEL = (
    "/gradio_api/queue/join",
    "/gradio_api/queue/data",
    "/gradio_api/cancel",
)
GRADIO_CALLS = frozenset({GRADIO_JOIN, GRADIO_DATA, GRADIO_CANCEL})
GRADIO_HEARTBEAT = "/gradio_api/heartbeat/"
CONFIG_PATHS = frozenset({"/config", "/config/"})
PAGE_PATHS = frozenset({"/"})
#: One segment after these prefixes: a file or a document id, never a sub-folder.
PAGE_PREFIXES = ("/documents/",)
ASSET_PREFIXES = ("/assets/", "/static/app/")
ASSET_PATHS = frozenset({"/theme.css", "/static/js/iframeResizer.contentWindow.min.js"})


def _one_segment(path: str, prefix: str) -> bool:
    rest = path[len(prefix) :]
    return path.startswith(prefix) and bool(rest) and "/" not in rest


def is_api(path: str) -> bool:
    return any(path == prefix or path.startswith(prefix + "/") for prefix in API_PREFIXES)


def is_open(path: str) -> bool:
    return (
        path in OPEN_PATHS
        or _one_segment(path, VENDOR_PREFIX)
        or path in WIDGET_PATHS
        or _one_segment(path, WIDGET_PREFIX)
    )


def is_asset(path: str) -> bool:
    return path in ASSET_PATHS or any(_one_segment(path, prefix) for prefix in ASSET_PREFIXES)


def is_page(path: str) -> bool:
    return path in PAGE_PATHS or any(_one_segment(path, prefix) for prefix in PAGE_PREFIXES)


def is_gradio_call(path: str) -> bool:
    return path in GRADIO_CALLS or _one_segment(path, GRADIO_HEARTBEAT)


def is_known(path: str) -> bool:
    """A path of the UI the page uses; anything else under the UI is a 404."""
    return is_page(path) or path in CONFIG_PATHS or is_gradio_call(path) or is_asset(path)


def is_charged(path: str) -> bool:
    """Spends a token of the caller's bucket: every UI request except the page's static files."""
    return not is_asset(path)
