/* The 「地域ネットワーク」 view: draws the payload of GET /v1/networks with vis-network (served by the app).
 *
 * Members are dots coloured by their sector label and sized by the number of networks they belong to;
 * networks are boxes, and each network's members sit in a shaded group drawn behind them; members of two
 * or more networks are ringed in red and marked ★. A click shows the node's source cells verbatim (document
 * title, lines) and its networks. The table view lists the same memberships; PNG and CSV export them.
 * Every text from the data is set with textContent, never as HTML.
 */
(function () {
  "use strict";

  const SECTOR_COLORS = { 学: "#2563eb", 官: "#16a34a", 産: "#ea580c", 金融: "#9333ea" };
  const OTHER_COLOR = "#6b7280";
  const SECTOR_NAMES = { 学: "大学・研究機関", 官: "行政", 産: "産業界", 金融: "金融機関" };
  const PROGRAM_COLORS = { kofukin: "#0f766e", kyoso: "#b45309", survey: "#4338ca", cases: "#be185d" };
  const PROGRAM_SHORT = { kofukin: "交付金", kyoso: "共創の場", survey: "総務省調査", cases: "総務省事例" };
  const SHARED_BORDER = "#dc2626";

  const state = { payload: null, network: null, nodes: null, edges: null, view: "graph", selected: null };

  function el(tag, attrs, children) {
    const node = document.createElement(tag);
    for (const [key, value] of Object.entries(attrs || {})) {
      if (key === "text") node.textContent = value;
      else if (key === "class") node.className = value;
      else if (key.startsWith("on")) node.addEventListener(key.slice(2), value);
      else node.setAttribute(key, value);
    }
    for (const child of children || []) if (child) node.appendChild(child);
    return node;
  }

  function sectorColor(sector) {
    return SECTOR_COLORS[sector] || OTHER_COLOR;
  }

  function shortName(text, max) {
    return text.length > max ? text.slice(0, max - 1) + "…" : text;
  }

  function hexToRgba(hex, alpha) {
    const value = parseInt(hex.slice(1), 16);
    return `rgba(${(value >> 16) & 255}, ${(value >> 8) & 255}, ${value & 255}, ${alpha})`;
  }

  // -- the page skeleton ---------------------------------------------------------------------------------
  function skeleton(root) {
    root.replaceChildren();
    const toolbar = el("div", { class: "pa-net-toolbar" }, [
      el("div", { class: "pa-net-switch", role: "group", "aria-label": "表示" }, [
        el("button", { type: "button", id: "pa-net-show-graph", class: "pa-net-on", text: "図", onclick: () => show("graph") }),
        el("button", { type: "button", id: "pa-net-show-table", text: "表", onclick: () => show("table") }),
      ]),
      el("button", { type: "button", id: "pa-net-png", text: "PNG保存", onclick: exportPng }),
      el("button", { type: "button", id: "pa-net-csv", text: "CSV保存", onclick: exportCsv }),
      el("span", { id: "pa-net-counts", class: "pa-net-counts" }),
    ]);
    const legend = el("div", { class: "pa-net-legend", id: "pa-net-legend" });
    root.append(toolbar, legend);
    const body = el("div", { class: "pa-net-body" }, [
      el("div", { id: "pa-net-graph", class: "pa-net-graph", role: "img", "aria-label": "ネットワーク図" }),
      el("div", { id: "pa-net-table", class: "pa-net-table", hidden: "" }),
      el("aside", { id: "pa-net-detail", class: "pa-net-detail", "aria-live": "polite" }),
    ]);
    root.append(body);
  }

  // The legend lists the sectors of the members shown (a label the region does not use is left out).
  function drawLegend() {
    const legend = document.getElementById("pa-net-legend");
    const present = new Set(state.payload.elements.nodes.filter((n) => n.data.kind === "member").map((n) => n.data.sector || ""));
    legend.replaceChildren();
    for (const [sector, name] of Object.entries(SECTOR_NAMES)) {
      if (!present.has(sector)) continue;
      legend.appendChild(el("span", { class: "pa-net-key" }, [
        el("i", { class: "pa-net-dot", style: `background:${SECTOR_COLORS[sector]}` }),
        el("span", { text: `【${sector}】${name}` }),
      ]));
    }
    if ([...present].some((s) => !SECTOR_NAMES[s])) {
      legend.appendChild(el("span", { class: "pa-net-key" }, [
        el("i", { class: "pa-net-dot", style: `background:${OTHER_COLOR}` }),
        el("span", { text: "区分の記載なし・その他" }),
      ]));
    }
    legend.appendChild(el("span", { class: "pa-net-key" }, [
      el("i", { class: "pa-net-dot pa-net-ring" }),
      el("span", { text: "★ 複数のネットワークに参加" }),
    ]));
    legend.appendChild(el("span", { class: "pa-net-key" }, [
      el("i", { class: "pa-net-box" }),
      el("span", { text: "ネットワーク（網掛けがその構成員）" }),
    ]));
  }

  function show(view) {
    state.view = view;
    document.getElementById("pa-net-graph").hidden = view !== "graph";
    document.getElementById("pa-net-table").hidden = view !== "table";
    document.getElementById("pa-net-show-graph").classList.toggle("pa-net-on", view === "graph");
    document.getElementById("pa-net-show-table").classList.toggle("pa-net-on", view === "table");
    if (view === "graph" && state.network) state.network.redraw();
  }

  // -- the graph ----------------------------------------------------------------------------------------
  function nodeOf(data) {
    if (data.kind === "network") {
      const color = PROGRAM_COLORS[data.program] || OTHER_COLOR;
      return {
        id: data.id,
        kind: "network",
        label: `【${PROGRAM_SHORT[data.program] || data.program}】\n${shortName(data.label, 34)}`,
        shape: "box",
        color: { background: "#ffffff", border: color, highlight: { background: "#fffbeb", border: color } },
        borderWidth: 3,
        margin: 8,
        font: { size: 13, color: "#111827", multi: false },
        widthConstraint: { maximum: 190 },
        mass: 3,
        data: data,
      };
    }
    const color = sectorColor(data.sector);
    const shared = Boolean(data.shared);
    return {
      id: data.id,
      kind: "member",
      shared: shared,
      sector: data.sector,
      label: (shared ? "★ " : "") + data.label,
      shape: "dot",
      size: 9 + 7 * Math.max(0, (data.networks || 1) - 1),
      color: {
        background: color,
        border: shared ? SHARED_BORDER : "#ffffff",
        highlight: { background: color, border: "#111827" },
      },
      borderWidth: shared ? 4 : 1.5,
      // Only shared members are labelled on the canvas (dozens of names overlap, on a phone unreadably);
      // every other name appears while the dot is hovered or selected, and stands in the list beside.
      font: shared
        ? { size: 14, color: "#111827", bold: true, strokeWidth: 4, strokeColor: "#ffffff" }
        : { size: 13, color: "rgba(0,0,0,0)", strokeWidth: 0, strokeColor: "rgba(0,0,0,0)" },
      chosen: { node: true, label: showLabel },
      data: data,
    };
  }

  function showLabel(values, id, selected, hovering) {
    if (!selected && !hovering) return;
    values.color = "#111827";
    values.strokeWidth = 4;
    values.strokeColor = "#ffffff";
    values.size = 15;
  }

  // The list beside the graph: every network with its members as buttons; a button selects the member
  // (its name shown on the canvas and its sources in the panel) — the names without the overlap.
  function memberList() {
    const payload = state.payload;
    const list = el("div", { class: "pa-net-list" }, [
      el("div", { class: "pa-net-hint", text: "図の点や四角、または下の名前を押すと、資料の記載と参加しているネットワークを表示します。" }),
    ]);
    for (const node of payload.elements.nodes) {
      if (node.data.kind !== "network") continue;
      const members = payload.elements.edges
        .filter((e) => e.data.target === node.data.id)
        .map((e) => networkData(e.data.source))
        .filter(Boolean);
      list.appendChild(el("section", { class: "pa-net-list-network" }, [
        el("h4", {}, [el("button", { type: "button", class: "pa-net-pick", text: node.data.label, onclick: () => pick(node.data.id) })]),
        el("ul", {}, members.map((m) => el("li", {}, [
          el("button", { type: "button", class: "pa-net-pick", text: (m.shared ? "★ " : "") + m.label, onclick: () => pick(m.id) }),
        ]))),
      ]));
    }
    return list;
  }

  function pick(id) {
    if (state.network) {
      state.network.selectNodes([id]);
      state.network.focus(id, { scale: Math.max(state.network.getScale(), 1), animation: false });
    }
    select(id);
  }

  function convexHull(points) {
    const pts = points.slice().sort((a, b) => a.x - b.x || a.y - b.y);
    if (pts.length < 3) return pts;
    const cross = (o, a, b) => (a.x - o.x) * (b.y - o.y) - (a.y - o.y) * (b.x - o.x);
    const lower = [];
    for (const p of pts) {
      while (lower.length >= 2 && cross(lower[lower.length - 2], lower[lower.length - 1], p) <= 0) lower.pop();
      lower.push(p);
    }
    const upper = [];
    for (const p of pts.slice().reverse()) {
      while (upper.length >= 2 && cross(upper[upper.length - 2], upper[upper.length - 1], p) <= 0) upper.pop();
      upper.push(p);
    }
    return lower.slice(0, -1).concat(upper.slice(0, -1));
  }

  function drawGroups(ctx) {
    const payload = state.payload;
    if (!payload || !state.network) return;
    for (const node of payload.elements.nodes) {
      const data = node.data;
      if (data.kind !== "network") continue;
      const members = payload.elements.edges.filter((e) => e.data.target === data.id).map((e) => e.data.source);
      const positions = state.network.getPositions([data.id, ...members]);
      const hull = convexHull(Object.values(positions));
      if (!hull.length) continue;
      const color = PROGRAM_COLORS[data.program] || OTHER_COLOR;
      ctx.save();
      ctx.beginPath();
      hull.forEach((p, i) => (i ? ctx.lineTo(p.x, p.y) : ctx.moveTo(p.x, p.y)));
      ctx.closePath();
      ctx.lineJoin = "round";
      ctx.lineWidth = 56;
      ctx.strokeStyle = hexToRgba(color, 0.1);
      ctx.fillStyle = hexToRgba(color, 0.1);
      ctx.stroke();
      ctx.fill();
      ctx.restore();
    }
  }

  function drawGraph() {
    const container = document.getElementById("pa-net-graph");
    if (state.network) state.network.destroy();
    const elements = state.payload.elements;
    state.nodes = new vis.DataSet(elements.nodes.map((n) => nodeOf(n.data)));
    state.edges = new vis.DataSet(
      elements.edges.map((e) => {
        const network = elements.nodes.find((n) => n.data.id === e.data.target);
        const color = PROGRAM_COLORS[network ? network.data.program : ""] || OTHER_COLOR;
        return { id: e.data.id, from: e.data.source, to: e.data.target, color: { color: hexToRgba(color, 0.45) }, width: 1.5 };
      })
    );
    state.network = new vis.Network(
      container,
      { nodes: state.nodes, edges: state.edges },
      {
        autoResize: true,
        physics: {
          solver: "forceAtlas2Based",
          forceAtlas2Based: { gravitationalConstant: -80, springLength: 90, avoidOverlap: 0.8 },
          stabilization: { iterations: 400, fit: true },
        },
        interaction: { hover: true, tooltipDelay: 150, navigationButtons: false, keyboard: false },
        edges: { smooth: false },
      }
    );
    state.network.on("beforeDrawing", drawGroups);
    state.network.once("stabilizationIterationsDone", () => {
      state.network.setOptions({ physics: false });
      state.network.fit({ animation: false });
      container.dataset.ready = "true";
    });
    state.network.on("click", (params) => {
      if (params.nodes.length) select(params.nodes[0]);
    });
  }

  // -- details ------------------------------------------------------------------------------------------
  function lineLabel(span) {
    return span.line_start === span.line_end ? `${span.line_start}行目` : `${span.line_start}–${span.line_end}行目`;
  }

  // The document view at the span's lines, its characters (char_start/char_end of the lines' text) marked.
  function documentHref(span) {
    const q = new URLSearchParams({ from: span.line_start, to: span.line_end });
    if (span.char_start != null && span.char_end != null) {
      q.set("c0", span.char_start);
      q.set("c1", span.char_end);
    }
    return `documents/${encodeURIComponent(span.doc_id)}?${q}#L${span.line_start}`;
  }

  function documentLink(span, label) {
    return el("a", { class: "pa-net-doclink", href: documentHref(span), target: "_blank", rel: "noopener",
      text: `${label} ↗` });
  }

  // Characters of a cell shown either side of the member: a 構成員 cell of a one-line table row runs to
  // ~2,200 characters, the member's neighbourhood is what a reader checks.
  const CONTEXT = 60;

  // A member's printing shown inside its 構成員 cell (bounded context, the member marked).
  function quoteOf(span, cells) {
    const cell = (cells || []).find((c) => c.doc_id === span.doc_id && c.text.includes(span.text));
    const quote = el("blockquote", { class: "pa-net-quote" });
    const text = cell ? cell.text : span.text;
    const at = text.indexOf(span.text);
    if (at < 0) {
      quote.textContent = span.text;
      return quote;
    }
    const lo = Math.max(0, at - CONTEXT);
    const hi = Math.min(text.length, at + span.text.length + CONTEXT);
    quote.append(
      document.createTextNode((lo > 0 ? "…" : "") + text.slice(lo, at)),
      el("mark", { text: span.text }),
      document.createTextNode(text.slice(at + span.text.length, hi) + (hi < text.length ? "…" : "")),
    );
    if (cell) quote.dataset.cell = `${cell.title || ""} ${lineLabel(cell)}`;
    return quote;
  }

  function sourceList(spans, note, cells) {
    const list = el("div", { class: "pa-net-sources" });
    for (const span of spans || []) {
      list.appendChild(el("div", { class: "pa-net-source" }, [
        el("div", { class: "pa-net-meta" }, [
          document.createTextNode(`${span.title || "資料"}・${lineLabel(span)} `),
          documentLink(span, "資料で見る"),
        ]),
        quoteOf(span, cells),
      ]));
    }
    if (note) list.appendChild(el("div", { class: "pa-net-note", text: note }));
    return list;
  }

  function networkData(id) {
    const node = state.payload.elements.nodes.find((n) => n.data.id === id);
    return node ? node.data : null;
  }

  function select(id) {
    const panel = document.getElementById("pa-net-detail");
    const data = networkData(id);
    if (!data) return;
    state.selected = id;
    panel.replaceChildren(
      el("button", { type: "button", class: "pa-net-pick pa-net-back", text: "← 名前の一覧へ",
        onclick: () => panel.replaceChildren(memberList()) }),
    );
    panel.dataset.node = id;
    if (data.kind === "network") {
      panel.append(
        el("div", { class: "pa-net-title", text: data.label }),
        el("div", { class: "pa-net-meta", text: `${data.region}・${data.program_name}・構成員 ${data.members}` }),
        data.plan_name ? el("div", { class: "pa-net-plan", text: `${data.plan_label || "計画名"}：${data.plan_name}` }) : null,
        el("h4", { text: "名称の記載" }),
        sourceList(data.sources),
      );
      if (data.summary) panel.append(el("h4", { text: "取組概要" }), sourceList(data.summary_sources));
      if ((data.members_cells || []).length) panel.append(el("h4", { text: "構成員の記載" }), sourceList(data.members_cells));
      return;
    }
    const edges = state.payload.elements.edges.filter((e) => e.data.source === id);
    panel.append(
      el("div", { class: "pa-net-title", text: (data.shared ? "★ " : "") + data.label }),
      el("div", {
        class: "pa-net-meta",
        text: `【${data.sector || "－"}】${SECTOR_NAMES[data.sector] || "区分の記載なし"}${data.sector_inferred ? "（名称から推定）" : ""}・` +
          `${data.networks}ネットワークに参加`,
      }),
    );
    if ((data.aliases || []).length) panel.append(el("div", { class: "pa-net-note", text: `別の表記：${data.aliases.join("、")}` }));
    panel.append(el("h4", { text: "参加しているネットワークと記載" }));
    for (const edge of edges) {
      const network = networkData(edge.data.target);
      const title = network ? `${network.label}（${network.region}・${PROGRAM_SHORT[network.program] || network.program}）` : edge.data.target;
      const note = edge.data.variant ? `資料により表記が異なります。表示は「${edge.data.printed}」（${edge.data.rule}）。` : null;
      panel.append(
        el("div", { class: "pa-net-network", text: title + (edge.data.role ? `／${edge.data.role}` : "") }),
        sourceList(edge.data.sources, note, network ? network.members_cells : []),
      );
    }
  }

  // -- the table and exports ----------------------------------------------------------------------------
  function rows() {
    const out = [];
    for (const edge of state.payload.elements.edges) {
      const member = networkData(edge.data.source);
      const network = networkData(edge.data.target);
      const span = edge.data.sources[0] || {};
      out.push({
        region: network.region,
        program: network.program_name,
        network: network.label,
        member: member.label,
        sector: edge.data.sector || "",
        role: edge.data.role || "",
        shared: member.shared ? "○" : "",
        networks: String(member.networks),
        source: span.doc_id ? `${span.title || "資料"}・${lineLabel(span)}` : "",
        span: span.doc_id ? span : null,
        title: span.title || "",
        text: span.text || "",
      });
    }
    return out;
  }

  const COLUMNS = [
    ["member", "構成員"],
    ["sector", "区分"],
    ["role", "役職"],
    ["shared", "複数参加"],
    ["network", "ネットワーク"],
    ["program", "事業"],
    ["region", "地域"],
    ["source", "出典（行）"],
  ];

  function drawTable() {
    const holder = document.getElementById("pa-net-table");
    const head = el("tr", {}, COLUMNS.map(([, label]) => el("th", { scope: "col", text: label })));
    const body = el("tbody");
    for (const row of rows()) {
      const tr = el("tr", row.shared ? { class: "pa-net-shared-row" } : {});
      for (const [key] of COLUMNS) {
        if (key === "source" && row.span) {
          tr.appendChild(el("td", {}, [documentLink(row.span, row.source)]));
        } else {
          tr.appendChild(el("td", { text: row[key] }));
        }
      }
      body.appendChild(tr);
    }
    holder.replaceChildren(el("table", { class: "pa-net-rows" }, [el("thead", {}, [head]), body]));
  }

  function download(name, href) {
    const link = el("a", { href: href, download: name });
    document.body.appendChild(link);
    link.click();
    link.remove();
  }

  function fileName(ext) {
    const region = (state.payload && state.payload.region) || "all";
    return `network-${region}.${ext}`;
  }

  function exportPng() {
    const canvas = document.querySelector("#pa-net-graph canvas");
    if (!canvas) return;
    const out = document.createElement("canvas");
    out.width = canvas.width;
    out.height = canvas.height;
    const ctx = out.getContext("2d");
    ctx.fillStyle = "#ffffff";
    ctx.fillRect(0, 0, out.width, out.height);
    ctx.drawImage(canvas, 0, 0);
    download(fileName("png"), out.toDataURL("image/png"));
  }

  function csvCell(value) {
    const text = String(value == null ? "" : value);
    return /[",\n\r]/.test(text) ? `"${text.replace(/"/g, '""')}"` : text;
  }

  function csvText() {
    const keys = ["region", "program", "network", "member", "sector", "role", "shared", "networks", "title", "source", "text"];
    const header = ["地域", "事業", "ネットワーク", "構成員", "区分", "役職", "複数参加", "参加数", "資料", "出典（行）", "記載"];
    const lines = [header.map(csvCell).join(",")];
    for (const row of rows()) lines.push(keys.map((k) => csvCell(row[k])).join(","));
    return "\ufeff" + lines.join("\r\n") + "\r\n";
  }

  function exportCsv() {
    const blob = new Blob([csvText()], { type: "text/csv;charset=utf-8" });
    const url = URL.createObjectURL(blob);
    download(fileName("csv"), url);
    setTimeout(() => URL.revokeObjectURL(url), 1000);
  }

  // -- entry point --------------------------------------------------------------------------------------
  function render(payload) {
    const root = document.getElementById("pa-net-app");
    if (!root) return;
    if (!payload || payload.error) {
      root.replaceChildren(el("div", { class: "pa-net-status", text: (payload && payload.error) || "データがありません。" }));
      return;
    }
    state.payload = payload;
    if (!document.getElementById("pa-net-graph")) skeleton(root);
    const c = payload.counts;
    document.getElementById("pa-net-counts").textContent =
      `${payload.region}：ネットワーク ${c.networks}・構成員 ${c.members}・つながり ${c.links}・複数参加 ${c.shared_members}`;
    document.getElementById("pa-net-graph").dataset.ready = "false";
    drawLegend();
    drawGraph();
    drawTable();
    show(state.view);
    const panel = document.getElementById("pa-net-detail");
    panel.replaceChildren(memberList());
  }

  window.paNet = {
    render: render,
    select: select,
    csvText: csvText,
    get network() { return state.network; },
    get nodes() { return state.nodes; },
    get payload() { return state.payload; },
  };
})();
