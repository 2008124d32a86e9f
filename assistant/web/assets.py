"""Static files of the pages, served by the app itself: the product runs offline, so no CDN.

Two kinds: our own files under ``assistant/web/static/`` (``/static/app/<file>``) and files of pinned
registry packages (``/static/vendor/<name>``), each listed in ``VENDOR`` with the package that ships it,
so an upgrade is a version bump in ``pyproject.toml``, not a copied file.
"""

from __future__ import annotations

import mimetypes
from importlib import resources
from pathlib import Path

from fastapi import APIRouter
from fastapi.responses import Response

from assistant.web.errors import ApiError

OWN_STATIC = Path(__file__).resolve().parent / "static"

#: URL name → (installed package, path of the file inside it).
VENDOR: dict[str, tuple[str, str]] = {
    # vis-network 9.1.2 standalone (includes vis-data), as shipped by pyvis==0.3.2: the network view's graph
    "vis-network.min.js": ("pyvis", "lib/vis-9.1.2/vis-network.min.js"),
    "vis-network.min.css": ("pyvis", "lib/vis-9.1.2/vis-network.css"),
}
#: URL name → (bytes, replacement) applied when serving a vendor file: for a URL outside the app that
#: a package hard-codes (each entry says why where it is added).
VENDOR_REWRITES: dict[str, list[tuple[bytes, bytes]]] = {}

CACHE = {"Cache-Control": "public, max-age=86400"}

router = APIRouter(include_in_schema=False)


def _media_type(name: str) -> str:
    return mimetypes.guess_type(name)[0] or "application/octet-stream"


@router.get("/static/vendor/{name}")
def vendor_file(name: str) -> Response:
    entry = VENDOR.get(name)
    if entry is None:
        raise ApiError(404, "not_found", "No such static file.")
    package, inner = entry
    try:
        data = resources.files(package).joinpath(inner).read_bytes()
    except (ModuleNotFoundError, FileNotFoundError, OSError) as exc:
        raise ApiError(404, "not_found", "No such static file.") from exc
    for old, new in VENDOR_REWRITES.get(name, []):
        data = data.replace(old, new)
    return Response(data, media_type=_media_type(name), headers=CACHE)


@router.get("/static/app/{name:path}")
def own_file(name: str) -> Response:
    path = (OWN_STATIC / name).resolve()
    if not path.is_file() or OWN_STATIC not in path.parents:
        raise ApiError(404, "not_found", "No such static file.")
    return Response(path.read_bytes(), media_type=_media_type(name), headers=CACHE)
