"""The generative composer's flow: kept and dropped sentences, streaming only what passed, and every way a
backend fails (down, slow, malformed, refusing) ending in the deterministic answer with a note — never an
exception, never a hang past the timeout. Fast: scripted chat backends stand in for the model here (the
real model is in test_e2e.py); the OpenAI-compatible client is tested against real HTTP servers on
127.0.0.1.
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import SimpleNamespace

import pytest

from assistant.config import Settings
from assistant.pipeline.compose import Line
from assistant.pipeline.compose.generative import GenerativeComposer, VerifiedDraft
from assistant.pipeline.compose.llm import LLMError, OpenAIChat
from tests.generative.conftest import KYOSO, make_plan
from tests.support import free_port

GOOD = "共創の場形成支援プログラムの問い合わせ先はTEL：03-5253-4111（内線4195）です。[E1]\n"
BAD = "予算額は13,750,509千円です。[E1]\n"  # a changed digit
MORE = "申請主体は大学等研究機関です。[E1]\n"


class Scripted:
    """A chat backend that streams given pieces (optionally slowly), or fails."""

    name = "scripted"

    def __init__(self, pieces: list[str], delay: float = 0.0, error: LLMError | None = None) -> None:
        self.pieces, self.delay, self.error = pieces, delay, error
        self.calls = 0

    def stream(self, messages, stop: threading.Event) -> Iterator[str]:
        self.calls += 1
        if self.error is not None:
            raise self.error
        for piece in self.pieces:
            if stop.wait(self.delay) if self.delay else stop.is_set():
                return
            yield piece


def composer(catalog, matcher, backend, **settings) -> GenerativeComposer:
    context = SimpleNamespace(
        settings=Settings(llm_timeout_s=settings.pop("timeout", 5.0), **settings),
        programs={p.id: p for p in catalog.programs},
        matcher=matcher,
    )
    return GenerativeComposer(context, lambda _settings: backend, "local")


@pytest.fixture
def contact_plan(reader, catalog, evidence):
    return make_plan(reader, catalog, evidence, f"{KYOSO}の問い合わせ先は？", "contact")


def test_failing_sentences_are_dropped_and_the_rest_is_the_answer(catalog, matcher, contact_plan):
    backend = Scripted([BAD, GOOD, MORE])
    items = list(composer(catalog, matcher, backend).stream(contact_plan))
    draft = items[-1]
    assert isinstance(draft, VerifiedDraft) and draft.composer == "local"
    shown = [item for item in items if isinstance(item, Line)]
    assert [line.text for line in shown] == [line.text for line in draft.lines]
    assert "13,750,509" not in "".join(line.text for line in draft.lines)
    v = draft.verification
    assert v is not None and (v.kept, v.dropped, v.fallback) == (2, 1, False)
    assert [s.reason for s in v.sentences] == ["amount_not_in_evidence", None, None]
    assert v.sentences[0].text is None  # a dropped sentence is never shown, not even in the JSON


def test_sentences_are_held_back_until_the_kept_ones_answer(catalog, matcher, contact_plan):
    """The contact plan needs the contact: a sentence before it waits, and the answer is complete when shown."""
    department = "担当は文部科学省 科学技術・学術政策局 産業連携・地域振興課 拠点形成・地域振興室です。[E1]\n"
    gen = composer(catalog, matcher, Scripted([department, GOOD]))
    stream = gen.stream(contact_plan)
    first = next(stream)
    assert isinstance(first, Line) and first.text.startswith("担当は")  # released with the contact
    second = next(stream)
    assert isinstance(second, Line) and "03-5253-4111" in second.text


@pytest.mark.parametrize(
    ("backend", "reason"),
    [
        (Scripted([], error=LLMError("unavailable", "down")), "unavailable"),
        (Scripted(["共創の場形成支援プログラムの連絡先は次の通りです。\n"]), "malformed"),
        (Scripted(["申し訳ありませんが、お答えできません。"]), "refusal"),
        (Scripted([BAD]), "nothing_verified"),
        (Scripted([MORE]), "incomplete"),  # true, but no contact: it does not answer a contact question
    ],
)
def test_every_failure_gives_the_deterministic_answer_with_a_note(
    catalog, matcher, contact_plan, backend, reason
):
    draft = composer(catalog, matcher, backend).compose(contact_plan)
    assert draft.composer == "deterministic"
    assert draft.verification is not None
    assert draft.verification.fallback and draft.verification.reason == reason
    assert draft.note and "定型の回答" in draft.note
    expected = composer(catalog, matcher, backend).fallback.compose(contact_plan)
    assert [line.text for line in draft.lines] == [line.text for line in expected.lines]


def test_a_slow_model_is_abandoned_at_the_timeout(catalog, matcher, contact_plan):
    slow = Scripted([GOOD[:5], GOOD[5:]], delay=3.0)
    started = time.perf_counter()
    draft = composer(catalog, matcher, slow, timeout=0.5).compose(contact_plan)
    assert time.perf_counter() - started < 1.5
    assert draft.verification.fallback and draft.verification.reason == "timeout"


def test_plans_that_abstain_get_no_generated_facts(catalog, matcher, reader, evidence):
    backend = Scripted([GOOD])
    gen = composer(catalog, matcher, backend)
    for kind in ("abstain", "clarify", "not_stated"):
        plan = make_plan(reader, catalog, evidence, f"{KYOSO}の締切は？", kind)
        draft = gen.compose(plan)
        assert draft.composer == "deterministic" and draft.verification.reason == "plan_abstains"
        assert not draft.verification.fallback
    assert backend.calls == 0
    long_list = make_plan(reader, catalog, evidence, f"{KYOSO}の予算は？", "attribute")
    draft = composer(catalog, matcher, backend, llm_max_evidence=3).compose(long_list)
    assert draft.verification.reason == "too_much_evidence" and backend.calls == 0


def test_the_prompt_holds_the_plan_and_the_numbered_evidence_only(catalog, matcher, reader, evidence):
    plan = make_plan(
        reader, catalog, evidence, f"{KYOSO}は民間企業が申請できますか？", "yes_no", verdict="no"
    )
    system, user = composer(catalog, matcher, Scripted([])).messages(plan)
    assert "[E1]" in system["content"] and "根拠" in system["content"]
    assert "結論: いいえ" in user["content"]
    assert all(f"[E{item.id}]" in user["content"] for item in evidence)
    assert "03-5253-4111（内線4195）" in user["content"]  # the row's fields, as the catalog reads them


# -- the OpenAI-compatible client against real HTTP servers -----------------------------------------------
class _Handler(BaseHTTPRequestHandler):
    script: list[str] = []
    delay = 0.0
    status = 200

    def do_POST(self) -> None:  # noqa: N802 - http.server's name
        length = int(self.headers.get("content-length", "0"))
        body = json.loads(self.rfile.read(length))
        assert body["stream"] is True and body["messages"][0]["role"] == "system"
        self.send_response(self.status)
        self.send_header("Content-Type", "text/event-stream")
        self.end_headers()
        for piece in self.script:
            time.sleep(self.delay)
            chunk = {"choices": [{"index": 0, "delta": {"content": piece}}]}
            self.wfile.write(f"data: {json.dumps(chunk, ensure_ascii=False)}\n\n".encode())
            self.wfile.flush()
        self.wfile.write(b"data: [DONE]\n\n")

    def log_message(self, *args) -> None:
        return


def _server(script: list[str], delay: float = 0.0, status: int = 200):
    handler = type("Handler", (_Handler,), {"script": script, "delay": delay, "status": status})
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server


def _openai(catalog, matcher, url: str, timeout: float = 5.0) -> GenerativeComposer:
    settings = Settings(llm_base_url=url, llm_timeout_s=timeout)
    context = SimpleNamespace(
        settings=settings, programs={p.id: p for p in catalog.programs}, matcher=matcher
    )
    return GenerativeComposer(context, OpenAIChat, "openai")


def test_the_openai_client_streams_from_a_real_server(catalog, matcher, contact_plan):
    server = _server([GOOD[:20], GOOD[20:], MORE])
    try:
        draft = _openai(catalog, matcher, f"http://127.0.0.1:{server.server_port}/v1").compose(contact_plan)
    finally:
        server.shutdown()
    assert draft.composer == "openai" and not draft.verification.fallback
    assert draft.verification.kept == 2


@pytest.mark.parametrize("status", [500, 401])
def test_an_endpoint_error_falls_back(catalog, matcher, contact_plan, status):
    server = _server([GOOD], status=status)
    try:
        draft = _openai(catalog, matcher, f"http://127.0.0.1:{server.server_port}/v1").compose(contact_plan)
    finally:
        server.shutdown()
    assert draft.composer == "deterministic" and draft.verification.reason == "unavailable"


def test_an_endpoint_that_is_down_falls_back_at_once(catalog, matcher, contact_plan):
    started = time.perf_counter()
    draft = _openai(catalog, matcher, f"http://127.0.0.1:{free_port()}/v1").compose(contact_plan)
    assert draft.verification.reason == "unavailable" and time.perf_counter() - started < 3


def test_a_server_that_trickles_is_cut_at_the_timeout(catalog, matcher, contact_plan):
    server = _server(list(GOOD), delay=0.3)  # ~20 s for the whole sentence
    try:
        started = time.perf_counter()
        draft = _openai(catalog, matcher, f"http://127.0.0.1:{server.server_port}/v1", timeout=1.0).compose(
            contact_plan
        )
        assert time.perf_counter() - started < 2.0
    finally:
        server.shutdown()
    assert draft.verification.reason == "timeout"


def test_a_bug_while_verifying_still_gives_an_answer(catalog, matcher, contact_plan, monkeypatch):
    gen = composer(catalog, matcher, Scripted([GOOD]))

    def broken(*_args):
        raise RuntimeError("a bug")

    monkeypatch.setattr(gen.verifier, "check", broken)
    draft = gen.compose(contact_plan)
    assert draft.composer == "deterministic" and draft.verification.reason == "error"


def test_the_chat_names_the_composer_that_answered():
    from assistant.web.ui.render import composer_label

    generated = composer_label({"composer": "local", "verification": {"fallback": False}})
    assert 'data-composer="local"' in generated and "照合済み" in generated
    fallback = composer_label(
        {"composer": "deterministic", "verification": {"fallback": True, "note": "<b>理由</b>"}}
    )
    assert "定型の回答" in fallback and "&lt;b&gt;理由&lt;/b&gt;" in fallback
