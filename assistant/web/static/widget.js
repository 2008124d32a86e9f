/* 政策アシスタント — the embeddable chat widget.
 *
 *   <script src="https://<app>/widget.js" data-title="政策アシスタント" data-position="right"
 *           data-color="#1d4ed8" data-open="false" async></script>
 *
 * Draws a launcher and a chat panel in a shadow root on the host page: the host's CSS does not reach in
 * (`all: initial` on the host element, inline and !important) and the widget's CSS does not leak out (it is
 * a <link> inside the shadow root). Everything comes from the app that served this file; no key is held:
 * the app answers only while its chat UI is public, and only pages of its configured origins. Answers
 * stream; each [n] opens its source (title, lines, the quote verbatim, a link to the lines); programs show
 * their contacts as the documents print them; 👍/👎 rate an answer.
 */
(() => {
  "use strict";
  const script = document.currentScript;
  if (!script || !script.src) return;
  const APP = new URL(script.src).origin;
  const data = script.dataset;
  const TITLE = (data.title || "政策アシスタント").slice(0, 60);
  const SIDE = data.position === "left" ? "left" : "right";
  const COLOR = /^#[0-9a-fA-F]{3,8}$/.test(data.color || "") ? data.color : "#1d4ed8";
  const LAUNCHER = (data.launcher || "質問する").slice(0, 20);
  const PREFIX = "政策アシスタント widget:";

  let config = null;
  const turns = []; // the conversation sent with each question: {role, content}
  let answers = 0; // numbering for element ids

  // -- tiny DOM helper -----------------------------------------------------------------------------------
  function el(tag, attrs, ...children) {
    const node = document.createElement(tag);
    for (const [key, value] of Object.entries(attrs || {})) {
      if (value === null || value === undefined || value === false) continue;
      if (key === "class") node.className = value;
      else if (key === "text") node.textContent = value;
      else if (key.startsWith("on")) node.addEventListener(key.slice(2), value);
      else node.setAttribute(key, value === true ? "" : String(value));
    }
    for (const child of children.flat()) {
      if (child !== null && child !== undefined) node.append(child);
    }
    return node;
  }

  // Icons drawn as SVG: an emoji would depend on the visitor's fonts.
  const ICONS = {
    chat: "M20 2H4c-1.1 0-2 .9-2 2v18l4-4h14c1.1 0 2-.9 2-2V4c0-1.1-.9-2-2-2z",
    up: "M1 21h4V9H1v12zm22-11c0-1.1-.9-2-2-2h-6.31l.95-4.57.03-.32c0-.41-.17-.79-.44-1.06L14.17 1 7.59 7.59C7.22 7.95 7 8.45 7 9v10c0 1.1.9 2 2 2h9c.83 0 1.54-.5 1.84-1.22l3.02-7.05c.09-.23.14-.47.14-.73v-2z",
  };
  function icon(name, flip) {
    const svg = document.createElementNS("http://www.w3.org/2000/svg", "svg");
    svg.setAttribute("viewBox", "0 0 24 24");
    svg.setAttribute("aria-hidden", "true");
    svg.setAttribute("class", `icon${flip ? " flip" : ""}`);
    const path = document.createElementNS("http://www.w3.org/2000/svg", "path");
    path.setAttribute("d", ICONS[name]);
    svg.append(path);
    return svg;
  }

  // -- the host element and its shadow root ---------------------------------------------------------------
  const host = document.createElement("seisaku-assistant-widget");
  host.setAttribute(
    "style",
    "all: initial !important; position: fixed !important; bottom: 20px !important; " +
      `${SIDE}: 20px !important; z-index: 2147483000 !important; display: block !important;`,
  );
  const root = host.attachShadow({ mode: "open" });
  root.append(el("link", { rel: "stylesheet", href: `${APP}/widget/widget.css` }));
  const frame = el("div", { class: `frame side-${SIDE}`, style: `--accent: ${COLOR}` });
  root.append(frame);

  const log = el("div", { class: "log", role: "log", "aria-live": "polite" });
  const question = el("textarea", { rows: 2, placeholder: "ご質問をどうぞ（Enterで送信、Shift+Enterで改行）", "aria-label": "質問" });
  const send = el("button", { type: "submit", class: "send" }, "送信");
  const form = el("form", { class: "ask" }, question, send);
  const closeButton = el("button", { type: "button", class: "close", "aria-label": "閉じる", text: "×" });
  const panel = el(
    "section",
    { class: "panel", role: "dialog", "aria-label": TITLE, hidden: true },
    el("header", {}, el("span", { class: "title", text: TITLE }), closeButton),
    log,
    form,
    el("p", { class: "note", text: "回答は収録資料の記載だけに基づきます。[n] から出典を確認できます。" }),
  );
  const launcher = el("button", { type: "button", class: "launcher", "aria-expanded": "false" }, icon("chat"), LAUNCHER);
  frame.append(panel, launcher);

  function open(show) {
    panel.hidden = !show;
    launcher.setAttribute("aria-expanded", String(show));
    if (show) question.focus();
    else launcher.focus();
  }
  launcher.addEventListener("click", () => open(panel.hidden));
  closeButton.addEventListener("click", () => open(false));
  panel.addEventListener("keydown", (event) => {
    if (event.key === "Escape") open(false);
  });
  question.addEventListener("keydown", (event) => {
    if (event.key === "Enter" && !event.shiftKey && !event.isComposing) {
      event.preventDefault();
      form.requestSubmit();
    }
  });
  form.addEventListener("submit", (event) => {
    event.preventDefault();
    const text = question.value.trim();
    if (text && !send.disabled) ask(text);
  });

  // -- talking to the app --------------------------------------------------------------------------------
  async function errorText(response) {
    let message = "";
    let code = "";
    try {
      ({ message, code } = (await response.json()).error);
    } catch (_) {
      /* not JSON */
    }
    const wait = response.headers.get("Retry-After");
    if (code === "feedback_unavailable") return "データベースに接続できないため、保存されていません。時間をおいてもう一度お試しください。";
    if (response.status === 429) return `アクセスが集中しています。${wait || "数"}秒ほど待ってから、もう一度お試しください。`;
    if (response.status === 503) return `ただいま混雑しているか準備中です。${wait ? wait + "秒ほど" : "少し"}待ってから、もう一度お試しください。`;
    if (response.status === 422 || response.status === 400) return `質問を受け付けられませんでした（${message}）。`;
    return `回答できませんでした（${response.status}）。`;
  }

  async function* events(response) {
    const reader = response.body.getReader();
    const decoder = new TextDecoder();
    let buffer = "";
    for (;;) {
      const { value, done } = await reader.read();
      if (done) break;
      buffer += decoder.decode(value, { stream: true });
      let cut;
      while ((cut = buffer.indexOf("\n\n")) >= 0) {
        const block = buffer.slice(0, cut);
        buffer = buffer.slice(cut + 2);
        const name = (block.match(/^event: (.*)$/m) || [])[1];
        const payload = (block.match(/^data: (.*)$/m) || [])[1];
        if (name && payload) yield [name, JSON.parse(payload)];
      }
    }
  }

  async function ask(text) {
    send.disabled = true;
    question.value = "";
    log.querySelector(".intro")?.remove();
    log.append(el("div", { class: "msg user", text }));
    const bubble = el("div", { class: "msg bot pending", "aria-busy": "true" }, el("div", { class: "answer", text: "回答を作成しています…" }));
    log.append(bubble);
    bubble.scrollIntoView({ block: "end" });
    const history = turns.slice(-(config.max_history_turns || 20));
    try {
      const response = await fetch(`${APP}/widget/answer`, {
        method: "POST",
        mode: "cors",
        credentials: "omit",
        headers: { "Content-Type": "application/json" },
        body: JSON.stringify({ question: text, history }),
      });
      if (!response.ok) return fail(bubble, await errorText(response));
      let shown = "";
      for await (const [name, payload] of events(response)) {
        if (name === "delta") {
          shown += payload.text;
          bubble.querySelector(".answer").textContent = shown;
        } else if (name === "final") {
          render(bubble, payload);
          turns.push({ role: "user", content: text }, { role: "assistant", content: payload.answer });
        } else if (name === "error") {
          fail(bubble, payload.error.code === "busy" ? "ただいま混雑しています。少し待ってから、もう一度お試しください。" : "回答を完成できませんでした。");
        }
      }
    } catch (error) {
      fail(bubble, "アシスタントに接続できませんでした。");
      console.error(PREFIX, error);
    } finally {
      send.disabled = false;
      bubble.removeAttribute("aria-busy");
      bubble.classList.remove("pending");
    }
  }

  function fail(bubble, message) {
    bubble.replaceChildren(el("div", { class: "answer error", role: "alert", text: message }));
  }

  // -- an answer -----------------------------------------------------------------------------------------
  function render(bubble, answer) {
    const n = ++answers;
    const sourceId = (id) => `a${n}-src-${id}`;
    const text = el("div", { class: "answer" });
    for (const part of answer.answer.split(/(\[\d+\])/)) {
      const ref = part.match(/^\[(\d+)\]$/);
      const cited = ref && answer.citations.some((c) => String(c.id) === ref[1]);
      if (cited) {
        text.append(el("button", { type: "button", class: "ref", "data-ref": ref[1], "aria-label": `出典${ref[1]}を見る`, onclick: () => reveal(root.getElementById(sourceId(ref[1]))) }, part));
      } else if (part) {
        text.append(part);
      }
    }
    const blocks = [text];
    if (answer.suggestions && answer.suggestions.length) {
      blocks.push(el("div", { class: "suggestions" }, el("span", { text: "資料で答えられる質問の例:" }), answer.suggestions.map((s) => el("button", { type: "button", class: "chip", onclick: () => ask(s) }, s))));
    }
    if (answer.programs && answer.programs.length) {
      blocks.push(el("details", { class: "programs", open: answer.programs.length <= 2 }, el("summary", { text: `関連する事業（${answer.programs.length}）` }), answer.programs.map(program)));
    }
    if (answer.citations.length) {
      blocks.push(el("details", { class: "sources", open: true }, el("summary", { text: `出典（${answer.citations.length}）` }), el("ol", {}, answer.citations.map((c) => source(c, sourceId(c.id))))));
    }
    blocks.push(rating(answer.feedback_token));
    bubble.replaceChildren(...blocks);
  }

  function reveal(card) {
    if (!card) return;
    card.closest("details").open = true;
    const top = card.getBoundingClientRect().top - log.getBoundingClientRect().top + log.scrollTop - 8;
    log.scrollTo({ top, behavior: "smooth" });
    card.classList.remove("flash");
    void card.offsetWidth; // restart the highlight
    card.classList.add("flash");
    card.focus({ preventScroll: true });
  }

  function source(citation, id) {
    const lines = citation.line_start === citation.line_end ? `${citation.line_start}行` : `${citation.line_start}–${citation.line_end}行`;
    const where = [citation.section, citation.page ? `p.${citation.page}` : null, lines].filter(Boolean).join("・");
    let link = null;
    if (config.document_url) {
      const href = APP + config.document_url.replace("{doc_id}", encodeURIComponent(citation.doc_id)).replace("{line_start}", citation.line_start).replace("{line_end}", citation.line_end);
      link = el("a", { href, target: "_blank", rel: "noopener", class: "open-doc" }, "資料の該当行を開く ↗");
    }
    return el(
      "li",
      { id, class: "source", tabindex: "-1", "data-doc": citation.doc_id },
      el("div", { class: "source-title" }, el("span", { class: "num", text: `[${citation.id}]` }), ` ${citation.title}`),
      el("div", { class: "where", text: where }),
      el("blockquote", { class: "quote", text: citation.quote }),
      link,
    );
  }

  function program(card) {
    const contact = [];
    for (const tel of card.tel || []) {
      const digits = tel.replace(/[（(].*$/, "").replace(/[^0-9]/g, "");
      const ext = (tel.match(/内線\s*(\d+)/) || [])[1];
      contact.push(el("a", { href: `tel:${digits}${ext ? ";ext=" + ext : ""}`, class: "tel" }, `TEL ${tel}`));
    }
    for (const mail of card.email || []) contact.push(el("a", { href: `mailto:${mail}`, class: "mail" }, mail));
    return el(
      "div",
      { class: "program" },
      el("div", { class: "program-name", text: card.name }),
      el("div", { class: "dept", text: card.department && card.ministry && card.department.startsWith(card.ministry) ? card.department : [card.ministry, card.department].filter(Boolean).join(" / ") }),
      contact.length ? el("div", { class: "contact" }, contact) : null,
    );
  }

  function rating(token) {
    const status = el("span", { class: "rated", role: "status" });
    const comment = el("textarea", { rows: 2, maxlength: 1000, placeholder: "よろしければ理由をお聞かせください", "aria-label": "評価の理由" });
    const commentForm = el("form", { class: "comment", hidden: true }, comment, el("button", { type: "submit", text: "送る" }));
    const up = el("button", { type: "button", class: "thumb up", "aria-pressed": "false", "aria-label": "役に立った（👍）" }, icon("up"));
    const down = el("button", { type: "button", class: "thumb down", "aria-pressed": "false", "aria-label": "役に立たなかった（👎）" }, icon("up", true));
    let current = null;
    async function post(body) {
      const response = await fetch(`${APP}/widget/feedback`, { method: "POST", mode: "cors", credentials: "omit", headers: { "Content-Type": "application/json" }, body: JSON.stringify({ token, ...body }) });
      if (!response.ok) throw new Error(await errorText(response));
      return response.json();
    }
    async function rate(value) {
      const next = current === value ? null : value; // the same thumb again takes the rating back
      try {
        await post({ rating: next });
        current = next;
        up.setAttribute("aria-pressed", String(next === "up"));
        down.setAttribute("aria-pressed", String(next === "down"));
        status.textContent = next ? "評価を送りました。ありがとうございます。" : "評価を取り消しました。";
        commentForm.hidden = next === null;
      } catch (error) {
        status.textContent = `評価を送れませんでした。${error.message}`;
      }
    }
    up.addEventListener("click", () => rate("up"));
    down.addEventListener("click", () => rate("down"));
    commentForm.addEventListener("submit", async (event) => {
      event.preventDefault();
      try {
        await post({ rating: current, comment: comment.value.trim() });
        status.textContent = "ご意見を送りました。";
        commentForm.hidden = true;
      } catch (error) {
        status.textContent = `送れませんでした。${error.message}`;
      }
    });
    return el("div", { class: "feedback" }, up, down, status, commentForm);
  }

  // -- start: ask the app whether this page may use it ---------------------------------------------------
  async function start() {
    let response;
    try {
      response = await fetch(`${APP}/widget/config`, { mode: "cors", credentials: "omit" });
    } catch (error) {
      console.error(PREFIX, "the app refused this page (its origin is not in ASSISTANT_WIDGET_ORIGINS) or cannot be reached.", error);
      return;
    }
    if (!response.ok) {
      let message = `HTTP ${response.status}`;
      try {
        message = (await response.json()).error.message;
      } catch (_) {
        /* keep the status */
      }
      host.dataset.refused = message;
      console.error(PREFIX, "not opened:", message);
      return;
    }
    config = await response.json();
    question.maxLength = config.max_question_chars;
    log.append(
      el("div", { class: "intro" }, el("p", { text: "政府の公表資料から、出典つきでお答えします。" }), el("div", { class: "examples" }, config.examples.map((example) => el("button", { type: "button", class: "chip", onclick: () => ask(example) }, example)))),
    );
    (document.body || document.documentElement).append(host);
    if (data.open === "true") open(true);
  }

  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", start);
  else start();
})();
