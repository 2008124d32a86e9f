"""The chat UI: a Gradio page mounted at ``/`` of the API app (render → chat handlers → page → mount)."""

from assistant.web.ui.mount import mount_ui
from assistant.web.ui.render import answer_html, program_cards_html, question_html, source_cards_html

__all__ = ["answer_html", "mount_ui", "program_cards_html", "question_html", "source_cards_html"]
