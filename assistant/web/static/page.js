/* The chat page's behaviour that Gradio has no component for (served from /static/app/page.js).
 *
 * - [n] in an answer scrolls to source n of that answer and highlights it; ↩ goes back to the [n].
 * - Copy buttons (answer + sources as Markdown / text, a program's contact) use the clipboard.
 * - 印刷 prints one answer with its sources (print CSS in page.css).
 * - A suggested question (abstentions) is asked with one click.
 * - The 事業一覧 table sorts by a column and opens a row's card.
 * - Screen-reader labels of chat messages are the message's text, not its HTML source.
 * Everything is delegated from document, so answers streamed in later need no wiring.
 */
(() => {
  "use strict";
  document.documentElement.lang = "ja";

  const flash = (el) => {
    el.classList.remove("pa-flash");
    void el.offsetWidth; // restart the animation
    el.classList.add("pa-flash");
    setTimeout(() => el.classList.remove("pa-flash"), 2600);
  };

  const reveal = (el) => {
    for (let node = el.parentElement; node; node = node.parentElement) {
      if (node.tagName === "DETAILS") node.open = true;
    }
    el.setAttribute("tabindex", "-1");
    el.scrollIntoView({ behavior: "smooth", block: "center" });
    el.focus({ preventScroll: true });
    flash(el);
  };

  const copy = async (text, button) => {
    try {
      await navigator.clipboard.writeText(text);
    } catch (err) {
      const area = document.createElement("textarea");
      area.value = text;
      area.setAttribute("readonly", "");
      area.style.position = "fixed";
      area.style.opacity = "0";
      document.body.appendChild(area);
      area.select();
      document.execCommand("copy");
      area.remove();
    }
    const label = button.textContent;
    button.textContent = "コピーしました";
    button.setAttribute("data-copied", "1");
    setTimeout(() => { button.textContent = label; button.removeAttribute("data-copied"); }, 1800);
  };

  const printAnswer = (answer) => {
    let area = document.getElementById("pa-print-area");
    if (!area) {
      area = document.createElement("div");
      area.id = "pa-print-area";
      (document.querySelector(".gradio-container") || document.body).appendChild(area);
    }
    area.innerHTML = "";
    // The question the answer is for, printed above it (the user's message before the answer's row).
    const rows = Array.from(document.querySelectorAll("#pa-chat .message-row"));
    const at = rows.indexOf(answer.closest(".message-row"));
    const asked = rows.slice(0, Math.max(at, 0)).reverse().find((row) => row.classList.contains("user-row"));
    if (asked) {
      const question = document.createElement("p");
      question.className = "pa-print-question";
      question.textContent = "質問：" + (asked.innerText || "").replace(/\s+/g, " ").trim();
      area.appendChild(question);
    }
    const clone = answer.cloneNode(true);
    clone.querySelectorAll("details").forEach((d) => { d.open = true; });
    area.appendChild(clone);
    document.body.classList.add("pa-print-one");
    const done = () => {
      document.body.classList.remove("pa-print-one");
      window.removeEventListener("afterprint", done);
    };
    window.addEventListener("afterprint", done);
    window.print();
    setTimeout(done, 1000);
  };

  const ask = (text) => {
    const box = document.querySelector("#pa-question textarea");
    const send = document.querySelector("#pa-send");
    if (!box || !send) return;
    box.value = text;
    box.dispatchEvent(new Event("input", { bubbles: true }));
    setTimeout(() => send.click(), 50);
  };

  const sortTable = (header) => {
    const table = header.closest("table");
    const index = Array.from(header.parentElement.children).indexOf(header);
    const numeric = header.classList.contains("pa-sort-number");
    const current = header.getAttribute("aria-sort");
    const ascending = current ? current !== "ascending" : !numeric; // amounts: largest first
    table.querySelectorAll("th[aria-sort]").forEach((th) => th.removeAttribute("aria-sort"));
    header.setAttribute("aria-sort", ascending ? "ascending" : "descending");
    const body = table.tBodies[0];
    const rows = Array.from(body.querySelectorAll("tr.pa-row"));
    const key = (row) => {
      const cell = row.children[index];
      const text = cell.textContent.trim();
      if (!numeric) return text;
      const amount = text.match(/^[\d,]+/); // 「1,450,000千円 令和4年度…」: the amount leads
      return amount ? Number(amount[0].replace(/,/g, "")) : -Infinity;
    };
    rows.sort((a, b) => {
      const x = key(a), y = key(b);
      const order = numeric ? x - y : String(x).localeCompare(String(y), "ja");
      return ascending ? order : -order;
    });
    for (const row of rows) {
      const detail = row.nextElementSibling;
      body.appendChild(row);
      if (detail && detail.classList.contains("pa-row-detail")) body.appendChild(detail);
    }
  };

  // A row's name is a button (keyboard, screen readers: aria-expanded); a click anywhere on the row works too.
  const toggleRow = (row) => {
    const detail = row.nextElementSibling;
    if (!detail || !detail.classList.contains("pa-row-detail")) return;
    const open = detail.classList.toggle("pa-open");
    const toggle = row.querySelector(".pa-row-toggle");
    if (toggle) toggle.setAttribute("aria-expanded", String(open));
  };

  // A [n] links to "#pa-src-<turn>-<n>"; the source's ↩ links to "#pa-ref-<turn>-<n>" (the first [n]).
  const inAnswer = (el, selector) => (el.closest(".pa-answer") || document).querySelector(selector);

  document.addEventListener("click", (event) => {
    const target = event.target instanceof Element ? event.target : null;
    if (!target) return;
    const ref = target.closest("a.pa-ref");
    if (ref) {
      event.preventDefault();
      const id = (ref.getAttribute("href") || "").slice(1);
      const source = inAnswer(ref, `[id="${CSS.escape(id)}"]`);
      if (source) reveal(source);
      return;
    }
    const back = target.closest("a.pa-back");
    if (back) {
      event.preventDefault();
      const id = (back.getAttribute("href") || "").slice(1).replace("pa-ref-", "pa-src-");
      const mark = inAnswer(back, `a.pa-ref[href="#${CSS.escape(id)}"]`);
      if (mark) reveal(mark);
      return;
    }
    const copyButton = target.closest("button.pa-copy");
    if (copyButton) {
      event.preventDefault();
      const source = copyButton.parentElement.querySelector(".pa-copy-src");
      if (source) copy(source.textContent, copyButton);
      return;
    }
    const printButton = target.closest("button.pa-print");
    if (printButton) {
      event.preventDefault();
      const answer = printButton.closest(".pa-answer");
      if (answer) printAnswer(answer);
      return;
    }
    const suggestion = target.closest("button.pa-suggest");
    if (suggestion) {
      event.preventDefault();
      ask(suggestion.textContent.trim());
      return;
    }
    const sorter = target.closest(".pa-catalog th button");
    if (sorter) {
      sortTable(sorter.closest("th"));
      return;
    }
    const row = target.closest(".pa-catalog tr.pa-row");
    if (row && (target.closest(".pa-row-toggle") || !target.closest("a, button"))) toggleRow(row);
  });

  // Gradio labels a chat message with its content, which is our HTML: label it with its text instead.
  const TAG = /<\/?[a-z][a-z0-9-]*(\s[^>]*)?>/i;
  // Gradio's own English labels and notices (it has no Japanese for these): said in Japanese.
  const JAPANESE = {
    "chatbot conversation": "会話",
    "More tabs": "ほかのタブ",
    "Like": "役に立った",
    "Dislike": "役に立たなかった",
    "Liked": "役に立った（選択中。押すと取り消し）",
    "Disliked": "役に立たなかった（選択中。押すと取り消し）",
    "Clear": "会話をクリア",
    "Warning": "ご確認ください",
    "Error": "エラー",
    "Info": "お知らせ",
    "Close": "閉じる",
    "common.complete": "完了",
    "common.error": "エラー",
    "common.loading": "読み込み中",
  };
  const MESSAGE = /^(user|bot)'s message:?\s*/;
  const plainLabels = (root) => {
    root.querySelectorAll("[aria-label], [title]").forEach((el) => {
      for (const name of ["aria-label", "title"]) {
        const label = el.getAttribute(name);
        if (!label) continue;
        if (JAPANESE[label]) { el.setAttribute(name, JAPANESE[label]); continue; }
        if (name !== "aria-label" || !(TAG.test(label) || MESSAGE.test(label))) continue;
        const text = (el.innerText || el.textContent || "").replace(/\s+/g, " ").trim();
        const role = label.startsWith("user") ? "質問: " : label.startsWith("bot") ? "回答: " : "";
        const plain = (role + text).slice(0, 300);
        if (plain !== label) el.setAttribute(name, plain);
      }
    });
    const walker = document.createTreeWalker(root, NodeFilter.SHOW_TEXT);
    for (let node = walker.nextNode(); node; node = walker.nextNode()) {
      const said = JAPANESE[node.nodeValue.trim()];
      if (said && !node.parentElement.closest(".pa-answer, textarea")) node.nodeValue = said;
    }
  };
  const watch = () => {
    plainLabels(document.body);
    new MutationObserver((records) => {
      for (const record of records) {
        const node = record.target instanceof Element ? record.target : record.target.parentElement;
        if (node) plainLabels(node.closest("#pa-chat") || node);
      }
    }).observe(document.body, {
      subtree: true, childList: true, characterData: true, attributes: true, attributeFilter: ["aria-label", "title"],
    });
  };
  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", watch);
  else watch();
})();
