"""The API's routes, one ``APIRouter`` per resource; ``create_app`` includes them all."""

from assistant.web import assets
from assistant.web.routes import answers, catalog, documents, health, networks, openai_compat, search, widget

ROUTERS = (
    health.router,
    answers.router,
    search.router,
    catalog.router,
    documents.router,
    networks.router,
    openai_compat.router,
    widget.router,
    assets.router,
)
