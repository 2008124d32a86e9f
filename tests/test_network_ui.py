"""The 「地域ネットワーク」 view in headless Chromium on the real app (real index, vis-network from the app).

The 広島県 graph shows the table's networks and members, a member of both 広島 networks (マツダ) is marked
shared, clicking a node shows its source cells verbatim, the table view and the CSV/PNG exports hold the
same memberships, the view fits a 390×844 phone — and every request the page makes stays on 127.0.0.1.

Set ``ASSISTANT_NETWORK_SCREENSHOT=docs/network.png`` to save a screenshot of the view.
"""

from __future__ import annotations

import csv
import io
import os
from pathlib import Path
from urllib.parse import urljoin, urlparse

import httpx
import pytest

pytestmark = [
    pytest.mark.slow,
    pytest.mark.filterwarnings("ignore:.*no_silent_downcasting.*"),
    pytest.mark.filterwarnings("ignore:The copy keyword is deprecated"),
]

CHROMIUM = Path("/usr/bin/chromium")
FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
TIMEOUT_MS = 90_000
READY = "#pa-net-graph[data-ready=true]"


@pytest.fixture(scope="module")
def browser():
    if not CHROMIUM.exists():
        pytest.skip(f"{CHROMIUM} is missing: install Debian's chromium (apt-get install -y chromium)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        chromium = pw.chromium.launch(executable_path=str(CHROMIUM), args=FLAGS)
        yield chromium
        chromium.close()


def _open(browser, base: str, width: int, height: int):
    context = browser.new_context(
        viewport={"width": width, "height": height}, locale="ja-JP", accept_downloads=True
    )
    context.set_default_timeout(TIMEOUT_MS)
    page = context.new_page()
    requests: list[str] = []
    errors: list[str] = []
    page.on("request", lambda request: requests.append(request.url))
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    page.goto(f"{base}/")
    _open_tab(page, "地域ネットワーク")  # Gradio renders a tab's contents when it is first opened
    page.wait_for_selector(READY)
    return context, page, requests, errors


def _open_tab(page, name: str) -> None:
    """Click the tab: every tab is in the bar, also on a phone (no 「⋯」 menu hides one)."""
    page.get_by_role("tab", name="チャット").wait_for()
    tab = page.get_by_role("tab", name=name)
    assert tab.is_visible(), f"the tab {name} is not in the tab bar"
    tab.click()


def _node_labels(page) -> dict[str, dict]:
    return {n["data"]["label"]: n["data"] for n in page.evaluate("() => window.paNet.payload.elements.nodes")}


def _click_node(page, node_id: str) -> None:
    """Click a node where vis-network drew it (canvas coordinates → page coordinates)."""
    point = page.evaluate(
        """(id) => {
            document.querySelector('#pa-net-graph').scrollIntoView({block: 'center'});
            const net = window.paNet.network;
            net.focus(id, {scale: 1.2, animation: false});
            const dom = net.canvasToDOM(net.getPosition(id));
            const box = document.querySelector('#pa-net-graph').getBoundingClientRect();
            return {x: box.left + dom.x, y: box.top + dom.y};
        }""",
        node_id,
    )
    page.mouse.click(point["x"], point["y"])


def test_hiroshima_graph_click_table_exports_offline(browser, live_server):
    context, page, requests, errors = _open(browser, live_server, 1280, 1000)
    try:
        assert page.locator("#pa-net-region input").input_value().startswith("広島県")
        payload = httpx.get(f"{live_server}/v1/networks", params={"region": "広島県"}, timeout=30).json()
        expected = {n["data"]["label"] for n in payload["elements"]["nodes"]}
        labels = _node_labels(page)
        assert set(labels) == expected  # the graph draws what the API returns for 広島県
        assert len([d for d in labels.values() if d["kind"] == "network"]) == 2
        for name in ("マツダ株式会社", "広島大学", "東広島市", "キユーピー株式会社", "中国経済連合会"):
            assert name in labels
        drawn = page.evaluate("() => window.paNet.nodes.get().map(n => [n.id, n.label, n.shared === true])")
        shared = {label for _, label, is_shared in drawn if is_shared}
        assert shared == {"★ マツダ株式会社", "★ 広島大学", "★ 広島県"}
        assert "複数参加 3" in page.locator("#pa-net-counts").inner_text()

        # clicking マツダ shows both networks and the verbatim cells with document title and lines
        _click_node(page, labels["マツダ株式会社"]["id"])
        detail = page.locator("#pa-net-detail")
        detail.get_by_text("参加しているネットワークと記載").wait_for()
        text = detail.inner_text()
        assert "★ マツダ株式会社" in text and "2ネットワークに参加" in text
        assert "広島県地方大学・地域産業創生事業推進特別委員会" in text and "代表取締役会長" in text
        assert "14行目" in text and "749行目" in text
        assert "000_bc" not in text and "L14" not in text  # title + lines, no raw ids
        # each source links into the document view, the member's characters marked there
        href = detail.locator("a.pa-net-doclink").first.get_attribute("href")
        assert href.startswith("documents/") and "c0=" in href and "c1=" in href
        document = page.context.new_page()
        document.goto(urljoin(page.url, href))
        assert document.locator("mark.doc-quote").first.inner_text() == "マツダ株式会社"
        document.close()
        assert "地域中核・特色ある研究大学総合振興パッケージ" in text
        # each printing is shown inside its 構成員 cell, verbatim, the member marked
        assert detail.locator(".pa-net-quote mark").all_inner_texts() == ["マツダ株式会社"] * 4
        cells = detail.locator(".pa-net-quote").all_inner_texts()
        assert any("【産】マツダ株式会社代表取\n締役会長" in cell for cell in cells)

        # a variant: the view says which printing it shows and why
        _click_node(page, labels["キユーピー株式会社"]["id"])
        detail.get_by_text("資料により表記が異なります", exact=False).wait_for()
        assert "キューピー株式会社" in detail.inner_text()

        # a network node shows its name, 取組概要 and 構成員 cells
        _click_node(page, "n:hiroshima-kofukin")
        detail.get_by_text("構成員の記載").wait_for()
        assert "ひろしまものづくりデジタルイノベーション創出プログラム" in detail.inner_text()

        if os.environ.get("ASSISTANT_NETWORK_SCREENSHOT"):
            _click_node(page, labels["マツダ株式会社"]["id"])
            page.evaluate("() => window.paNet.network.fit({animation: false})")
            detail.get_by_text("参加しているネットワークと記載").wait_for()
            page.locator("#pa-net-tab").screenshot(path=os.environ["ASSISTANT_NETWORK_SCREENSHOT"])

        # the table view: one row per membership
        page.locator("#pa-net-show-table").click()
        rows = page.locator("#pa-net-table tbody tr")
        assert rows.count() == payload["counts"]["links"] == 18
        assert page.locator("#pa-net-table .pa-net-shared-row").count() == 6  # 3 members × 2 networks
        sources = page.locator("#pa-net-table tbody a.pa-net-doclink")
        assert sources.count() == 18 and "行目" in sources.first.inner_text()
        assert "000_bc" not in page.locator("#pa-net-table").inner_text()
        page.locator("#pa-net-show-graph").click()

        # exports: CSV rows with the verbatim source, a PNG image
        with page.expect_download() as csv_download:
            page.locator("#pa-net-csv").click()
        csv_text = Path(csv_download.value.path()).read_text(encoding="utf-8-sig")
        assert csv_text.splitlines()[0].startswith("地域,事業,ネットワーク,構成員,区分")
        table = list(csv.reader(io.StringIO(csv_text)))
        assert len(table) == 19 and all(len(row) == 11 for row in table)
        mazda = [row for row in table if row[3] == "マツダ株式会社"]
        assert len(mazda) == 2 and mazda[0][5] == "代表取締役会長" and mazda[0][10] == "マツダ株式会社"
        with page.expect_download() as png_download:
            page.locator("#pa-net-png").click()
        assert Path(png_download.value.path()).read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"

        # another region redraws
        page.locator("#pa-net-region input").click()
        page.get_by_role("option", name="高知県", exact=False).click()
        page.wait_for_function("() => window.paNet.payload.region === '高知県'")
        page.wait_for_selector(READY)
        assert "高知工科大学" in _node_labels(page)

        outside = [
            url
            for url in requests
            if urlparse(url).scheme in ("http", "https", "ws", "wss")
            and urlparse(url).hostname != "127.0.0.1"
        ]
        assert requests and outside == []
        assert errors == []
    finally:
        context.close()


def test_network_view_on_a_phone(browser, live_server):
    context, page, requests, errors = _open(browser, live_server, 390, 844)
    try:
        page.locator("#pa-net-tab").scroll_into_view_if_needed()
        graph = page.locator("#pa-net-graph").bounding_box()
        detail = page.locator("#pa-net-detail").bounding_box()
        assert graph and detail
        assert graph["width"] <= 390 and graph["height"] >= 300
        assert detail["y"] >= graph["y"] + graph["height"]  # the details go below the graph
        overflow = page.evaluate("() => document.documentElement.scrollWidth - window.innerWidth")
        assert overflow <= 1
        labels = _node_labels(page)
        _click_node(page, labels["マツダ株式会社"]["id"])
        page.locator("#pa-net-detail").get_by_text("参加しているネットワークと記載").wait_for()
        assert all(
            urlparse(u).hostname in (None, "127.0.0.1")
            for u in requests
            if urlparse(u).scheme.startswith("http")
        )
        assert errors == []
    finally:
        context.close()
