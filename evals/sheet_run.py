"""``assistant eval --dataset cases.xlsx|cases.csv``: run a help desk's spreadsheet of cases and write an HTML
report an evaluator can open.

Each row is a requirement the evaluator wrote, so each is judged on its own: it passes when the answer
names every expected program and string and no forbidden program (or abstains exactly when 回答不能 says
so), every quote stands verbatim at its cited lines, no [n] dangles and every TEL / e-mail is one the
documents print. The run passes when every case does (exit 0; 1 otherwise). The metrics are
:mod:`evals.metrics`' own; the cases carry no evidence spans, so "is this citation on the gold span" is
not asked. The answer comes from the local index or, with ``--url``, from a deployed server.
"""

from __future__ import annotations

import html
import time
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

from tqdm import tqdm

from evals.metrics import AnswerScore, known_contacts, score_answer
from evals.runner import EvalTarget, HttpTarget, InProcessTarget
from evals.spreadsheet import SheetCase, check_gold, read_cases

#: Lines of context shown around a cited span in the report.
CONTEXT_LINES = 2


@dataclass
class SheetResult:
    item: SheetCase
    response: dict[str, Any]
    score: AnswerScore
    seconds: float
    failures: list[str] = field(default_factory=list)

    @property
    def passed(self) -> bool:
        return not self.failures


def judge(score: AnswerScore) -> list[str]:
    """What failed and why, in the report's words. Citation-on-gold-span problems are dropped: a
    spreadsheet case states what the answer must say, not where it stands."""
    return [p for p in score.problems if not p.startswith("citation [")]


def run_cases(
    target: EvalTarget, cases: list[SheetCase], documents: dict[str, str], show_progress: bool = True
) -> list[SheetResult]:
    emails, phones = known_contacts(target.programs())
    results = []
    for item in tqdm(cases, desc="evaluating", unit="case", disable=not show_progress):
        case = item.case
        started = time.perf_counter()
        response = target.ask(case.question, case.history, case.filters, "hybrid")
        seconds = time.perf_counter() - started
        score = score_answer(case, response, documents, emails, phones)
        results.append(SheetResult(item, response, score, seconds, judge(score)))
    return results


# -- the HTML report ----------------------------------------------------------------------------------
_STYLE = """
body { font-family: "Noto Sans CJK JP", "Noto Sans JP", "Hiragino Kaku Gothic ProN", Meiryo, system-ui, sans-serif;
  margin: 24px auto; max-width: 1100px; padding: 0 16px; color: #1f2937; line-height: 1.6; }
h1 { font-size: 1.4em; } h2 { font-size: 1.1em; margin-top: 2em; border-bottom: 1px solid #d7dde8; }
table { border-collapse: collapse; width: 100%; } th, td { border: 1px solid #d7dde8; padding: 4px 8px;
  vertical-align: top; text-align: left; } th { background: #eef2f8; }
.pass { color: #166534; font-weight: 700; } .fail { color: #b91c1c; font-weight: 700; }
.answer, .quote, .lines { white-space: pre-wrap; } .answer { background: #f8fafc; padding: 8px; border-radius: 6px; }
.quote { border-left: 3px solid #2563eb; background: #f3f4f6; padding: 4px 8px; margin: 4px 0; }
.lines { font-family: ui-monospace, monospace; font-size: .85em; background: #fff; border: 1px solid #e5e7eb; padding: 4px; }
.lines .cited { background: #fef3c7; } .why li { color: #b91c1c; } .meta { color: #6b7280; font-size: .9em; }
a.ref { font-weight: 700; text-decoration: none; }
"""


def _e(text: Any) -> str:
    return html.escape(str(text))


def render_html(
    results: list[SheetResult],
    dataset: str,
    target: str,
    documents: dict[str, str],
    document_url: str | None = None,
) -> str:
    """The report: a summary table, then per case the question, the answer with its [n] linked to the
    citations, each citation's quote and its lines in context, and what failed and why."""
    passed = sum(r.passed for r in results)
    verdict = "PASS" if passed == len(results) else "FAIL"
    rows = "".join(
        f'<tr><td><a href="#{_anchor(r)}">{_e(r.item.case.id)}</a></td><td>{r.item.row}</td>'
        f'<td>{_e(r.item.case.question)}</td><td class="{"pass" if r.passed else "fail"}">'
        f"{'合格' if r.passed else '不合格'}</td><td>{_e('; '.join(r.failures))}</td></tr>"
        for r in results
    )
    body = [
        f"<h1>評価レポート: {_e(dataset)}</h1>",
        f'<p class="meta">{_e(target)} / {datetime.now().isoformat(timespec="seconds")}</p>',
        f'<p class="{"pass" if verdict == "PASS" else "fail"}">{verdict}: {passed} / {len(results)} 件が合格</p>',
        "<table><tr><th>ID</th><th>行</th><th>質問</th><th>結果</th><th>理由</th></tr>",
        rows,
        "</table>",
        *(_case_html(r, documents, document_url) for r in results),
    ]
    return (
        '<!doctype html><html lang="ja"><head><meta charset="utf-8">'
        f"<title>評価レポート: {_e(dataset)}</title><style>{_STYLE}</style></head><body>"
        + "\n".join(body)
        + "</body></html>\n"
    )


def _anchor(result: SheetResult) -> str:
    return f"row-{result.item.row}"


def _case_html(result: SheetResult, documents: dict[str, str], document_url: str | None) -> str:
    case, response = result.item.case, result.response
    anchor = _anchor(result)
    status = '<span class="pass">合格</span>' if result.passed else '<span class="fail">不合格</span>'
    parts = [f'<h2 id="{anchor}">{_e(case.id)}（{result.item.row}行目） {status}</h2>']
    if case.history:
        turns = "".join(
            f"<li>{'ユーザー' if t.role == 'user' else 'アシスタント'}: {_e(t.content)}</li>"
            for t in case.history
        )
        parts.append(f"<p>会話履歴:</p><ul>{turns}</ul>")
    parts.append(f"<p><b>質問:</b> {_e(case.question)}</p>")
    expected = [
        ("含むべき事業", case.expected_programs),
        ("含んではいけない事業", case.forbidden_programs),
        ("含むべき文字列", case.expected_strings),
    ]
    wanted = "".join(f"<li>{label}: {_e('、'.join(values))}</li>" for label, values in expected if values)
    wanted += "<li>回答不能: はい</li>" if case.abstain else ""
    if wanted:
        parts.append(f"<ul>{wanted}</ul>")
    if result.failures:
        parts.append(
            '<p><b>不合格の理由:</b></p><ul class="why">'
            + "".join(f"<li>{_e(f)}</li>" for f in result.failures)
            + "</ul>"
        )
    answer = _e(response.get("answer", ""))
    for citation in response.get("citations", []):
        n = citation["id"]
        answer = answer.replace(f"[{n}]", f'<a class="ref" href="#{anchor}-cite-{n}">[{n}]</a>')
    parts.append(
        f'<p><b>回答</b>（{result.seconds * 1000:.0f} ms{"、回答不能" if response.get("abstained") else ""}）:</p><div class="answer">{answer}</div>'
    )
    citations = response.get("citations", [])
    if citations:
        parts.append("<p><b>出典:</b></p><ol>")
        parts += [_citation_html(anchor, c, documents, document_url) for c in citations]
        parts.append("</ol>")
    return "\n".join(parts)


def _citation_html(
    anchor: str, citation: dict[str, Any], documents: dict[str, str], document_url: str | None
) -> str:
    doc_id, start, end = citation["doc_id"], int(citation["line_start"]), int(citation["line_end"])
    lines = documents.get(doc_id, "").split("\n")
    shown_from, shown_to = max(1, start - CONTEXT_LINES), min(len(lines), end + CONTEXT_LINES)
    numbered = "".join(
        f'<span class="{"cited" if start <= n <= end else ""}">{n:>5}  {_e(lines[n - 1])}</span>\n'
        for n in range(shown_from, shown_to + 1)
    )
    where = f"{doc_id} {start}–{end}行" + (f", p.{citation['page']}" if citation.get("page") else "")
    link = ""
    if document_url:
        href = f"{document_url.rstrip('/')}/documents/{doc_id}?from={start}&to={end}"
        link = f' <a href="{_e(href)}">資料の該当行を開く</a>'
    return (
        f'<li id="{anchor}-cite-{citation["id"]}"><b>[{citation["id"]}] {_e(citation["title"])}</b>'
        f' <span class="meta">{_e(where)}</span>{link}'
        f'<div class="quote">{_e(citation["quote"])}</div>'
        f'<details><summary>該当行（前後{CONTEXT_LINES}行）</summary><div class="lines">{numbered}</div></details></li>'
    )


# -- the command --------------------------------------------------------------------------------------
def default_report(dataset: Path) -> Path:
    return dataset.with_name(f"{dataset.stem}-report.html")


def main(
    dataset: Path,
    report: Path | None,
    url: str | None,
    api_key: str | None,
    settings: Any,
    show_progress: bool = True,
) -> int:
    """Read and check the sheet (before any model loads), run it, write the HTML report; 1 when a case fails."""
    cases = read_cases(dataset, settings.max_question_chars)
    check_gold(cases, dataset, settings.corpus_dir)
    target: EvalTarget = HttpTarget(url, api_key) if url else InProcessTarget(settings)
    documents = target.documents()
    results = run_cases(target, cases, documents, show_progress)
    where = url or f"local index, build {target.service.index.manifest.build_id}"  # type: ignore[attr-defined]
    report = report if report is not None else default_report(dataset)
    report = report if report.suffix.lower() in (".html", ".htm") else report.with_suffix(".html")
    report.parent.mkdir(parents=True, exist_ok=True)
    report.write_text(render_html(results, dataset.name, where, documents, url), encoding="utf-8")
    passed = sum(r.passed for r in results)
    for r in results:
        if not r.passed:
            print(f"FAIL {r.item.case.id} (row {r.item.row}): {'; '.join(r.failures)}")
    print(f"{passed} / {len(results)} cases passed; report: {report}")
    return 0 if passed == len(results) else 1
