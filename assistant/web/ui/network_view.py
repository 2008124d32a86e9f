"""The 「地域ネットワーク」 view: choose a region, see its 産学官 networks as an interactive graph and a table.

Call :func:`network_view` inside a ``gr.Tab``. The data comes from the process's ``NetworkGraph`` through a
Gradio event (in process, like the chat): the page is not behind the API keys and needs no token for
``/v1``, and the payload is exactly what ``GET /v1/networks`` returns. The browser draws it with
vis-network (``/static/vendor/``, from the pinned ``pyvis`` package — no CDN) and our
``/static/app/network.js``: nodes coloured by sector and sized by the number of networks, each network's
members inside a shaded group, shared members ringed in red; a click shows the node's source cells
verbatim with document title and lines; a table of the same rows; PNG and CSV export.
"""

from __future__ import annotations

import logging
from typing import Any

import gradio as gr

from assistant.pipeline.networks import graph_for_build, graph_payload, resolve_filters
from assistant.web.ui.chat import Holder, ready_service

log = logging.getLogger("assistant.web.ui")

ALL_REGIONS = "すべての地域"

#: The container network.js draws into; Gradio never re-renders it (nothing updates this HTML).
SHELL = """
<div id="pa-net-app" class="pa-net">
  <div class="pa-net-status" id="pa-net-status">⏳ 準備中：索引を読み込んでいます…</div>
</div>
"""

#: Loads vis-network and network.js once, then draws the payload (the Python handler's output).
RENDER_JS = """
async (payload) => {
  if (!window.__paNetLoading) {
    const add = (tag, attrs) => new Promise((ok, fail) => {
      const el = document.createElement(tag);
      Object.assign(el, attrs);
      el.onload = ok;
      el.onerror = () => fail(new Error('could not load ' + (attrs.src || attrs.href)));
      document.head.appendChild(el);
    });
    window.__paNetLoading = Promise.all([
      add('link', {rel: 'stylesheet', href: '/static/vendor/vis-network.min.css'}),
      add('link', {rel: 'stylesheet', href: '/static/app/network.css'}),
      add('script', {src: '/static/vendor/vis-network.min.js'}),
    ]).then(() => add('script', {src: '/static/app/network.js'}));
  }
  await window.__paNetLoading;
  window.paNet.render(payload);
  return [];
}
"""


class NetworkView:
    """The view's handlers; it keeps no state (the region is the dropdown's value)."""

    def __init__(self, holder: Holder) -> None:
        self.holder = holder

    def choices(self):
        """Region choices once the service has loaded (the first region is shown); the timer stops then."""
        svc = ready_service(self.holder)
        if svc is None:
            return gr.skip(), gr.Timer(active=True)
        graph = graph_for_build(svc.index.build_dir)
        if not graph.regions:
            return gr.Dropdown(choices=[], value=None), gr.Timer(active=False)
        options: list[tuple[str, str]] = []
        for region in graph.regions:
            networks = graph.filter(regions=[region])
            members = {mid for n in networks for mid in n.member_ids}
            options.append((f"{region}（{len(networks)}ネットワーク・{len(members)}団体）", region))
        options.append((ALL_REGIONS, ALL_REGIONS))
        return gr.Dropdown(choices=options, value=graph.regions[0]), gr.Timer(active=False)

    def load(self, region: str | None) -> dict[str, Any]:
        """The payload of ``GET /v1/networks?region=…`` for the chosen region (all regions for すべて)."""
        svc = ready_service(self.holder)
        if svc is None:
            return {"error": "準備中です。少し待ってからもう一度お試しください。"}
        graph = graph_for_build(svc.index.build_dir)
        try:
            filters = resolve_filters(graph, region=None if region in (None, "", ALL_REGIONS) else region)
        except ValueError:
            return {"error": "その地域のネットワークは収録資料にありません。"}
        titles = {doc_id: doc.info.title for doc_id, doc in svc.store.documents.items()}
        payload = graph_payload(graph, graph.filter(**filters), titles, filters)
        payload["region"] = filters.get("regions", [ALL_REGIONS])[0]
        _add_char_ranges(payload, svc.store)
        return payload


def _add_char_ranges(value: Any, store: Any) -> None:
    """Each source span of the payload gets ``char_start``/``char_end``: where its text stands in its lines
    (joined by "\n"), as citations carry them, so the document view can mark the cell and not only the
    (possibly 2,200-character) line."""
    if isinstance(value, list):
        for item in value:
            _add_char_ranges(item, store)
        return
    if not isinstance(value, dict):
        return
    if {"doc_id", "line_start", "line_end", "text"} <= value.keys() and "char_start" not in value:
        document = store.get(value["doc_id"])
        text = value.get("text") or ""
        at = (
            document.span_text(value["line_start"], value["line_end"]).find(text) if document and text else -1
        )
        value["char_start"], value["char_end"] = (at, at + len(text)) if at >= 0 else (None, None)
    for item in value.values():
        _add_char_ranges(item, store)


def network_view(holder: Holder) -> None:
    """Build the view inside the current Blocks context (call it inside ``gr.Tab("地域ネットワーク")``)."""
    view = NetworkView(holder)
    gr.Markdown(
        "総合振興パッケージの「地域の産学官ネットワークの可視化」の表と、総務省の実態調査の事例から、"
        "地域ごとのネットワークと構成員を図にしました。点を押すと、その記載のある資料の行を表示します。",
        elem_id="pa-net-intro",
    )
    region = gr.Dropdown(
        [], value=None, label="地域", elem_id="pa-net-region", interactive=True, allow_custom_value=False
    )
    gr.HTML(SHELL, elem_id="pa-net-shell")
    data = gr.JSON(visible=False)
    timer = gr.Timer(1.5, active=True)
    timer.tick(view.choices, outputs=[region, timer], show_progress="hidden")
    region.change(view.load, [region], [data], show_progress="hidden").then(None, [data], None, js=RENDER_JS)
