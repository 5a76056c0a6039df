"""The one reader of the environment: ``Settings`` (prefix ``MIPGUIDE_``).

CLI flags override fields of the same object (``settings.model_copy(update=...)``). Settings
is a pydantic model that reads ``MIPGUIDE_<FIELD>`` variables (any case) before validation,
as pydantic-settings would for these scalar fields; importing pydantic-settings would cost
every cold CLI call 50 ms. Keyword arguments win over the environment.
"""

from __future__ import annotations

import importlib.util
import os
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, model_validator

from mipguide.problem.compression import DecompressionLimits


def _shipped_models() -> Path:
    """The shipped weights, wherever the checkout or installation is (not the cwd): the
    ``weights`` folder of the ``mipguide.models`` package (found, not imported)."""
    spec = importlib.util.find_spec("mipguide.models")
    if spec is None or spec.origin is None:  # pragma: no cover - a broken installation
        raise ImportError("mipguide.models is not installed")
    return Path(spec.origin).resolve().parent / "weights"


SHIPPED_MODELS = _shipped_models()
ENV_PREFIX = "MIPGUIDE_"


class Settings(BaseModel):
    """Runtime configuration. Every field can be set as ``MIPGUIDE_<FIELD>`` in the environment."""

    model_config = ConfigDict(extra="ignore", validate_default=True)

    @model_validator(mode="before")
    @classmethod
    def _environment(cls, data: Any) -> Any:
        """``MIPGUIDE_<FIELD>`` variables under the given values (unknown names are ignored)."""
        env = {
            key[len(ENV_PREFIX) :].lower(): value
            for key, value in os.environ.items()
            if key.upper().startswith(ENV_PREFIX)
        }
        return {**env, **data} if isinstance(data, dict) else data

    data_dir: Path = Field(default=Path("var"), description="jobs, inputs, results and logs")
    default_solver: str = "scip"
    default_time_limit: float = 60.0
    max_time_limit: float = 3600.0
    threads: int = 1
    device: str = Field(default="auto", description="torch device for tensor work: auto|cpu|cuda")
    gpu_memory_budget_mb: int = Field(
        default=2048, ge=16, description="device memory one pool worker's tiles may use"
    )
    gpu_max_batch: int = Field(default=64, ge=1, description="most requests coalesced per batch")
    gpu_coalesce_wait: float = Field(
        default=0.005, ge=0.0, description="seconds a worker waits for more requests to batch"
    )
    dmmv_max_entries: int = Field(
        default=20_000_000, ge=1, description="largest rows x columns of a DMMV job (413 beyond)"
    )
    model_dir: Path = Field(
        default=SHIPPED_MODELS, description="registry root: NAME@VERSION directories"
    )
    user_model_dir: Path | None = Field(
        default=None,
        description="the user's own models (mipguide train), searched before model_dir; "
        "None: <data_dir>/models",
    )

    # --- service (api/ and jobs/) ---
    host: str = "127.0.0.1"
    port: int = 8000
    db_url: str | None = Field(
        default=None,
        description="SQLAlchemy URL or SQLite file; postgres(ql):// means psycopg 3; "
        "None: SQLite at <data_dir>/mipguide.db",
    )
    workers: int = Field(default=2, ge=1, description="local solver worker processes")
    api_keys: str = Field(
        default="", description="comma-separated API keys; empty: open local mode"
    )
    metrics_token: str = Field(
        default="", description="bearer token for /metrics (besides the API keys)"
    )
    api_docs: bool = Field(default=True, description="serve /docs, /redoc and /openapi.json")
    max_upload_bytes: int = Field(default=64 * 1024 * 1024, description="per request (413)")
    max_decompressed_bytes: int = Field(
        default=512 * 1024 * 1024, ge=1, description="largest decompressed model (413)"
    )
    max_decompression_ratio: float = Field(
        default=100.0, gt=1, description="largest decompressed/compressed size ratio (413)"
    )
    max_batch_jobs: int = 1000
    max_running_per_key: int = Field(default=8, ge=1, description="running jobs per API key")
    max_queued_per_key: int = Field(default=10_000, ge=1, description="queued jobs per key (429)")
    allow_fake_solver: bool = Field(
        default=False, description="accept solver=fake (a scripted test backend) in jobs"
    )
    max_threads: int = Field(default=8, ge=1, description="largest threads option accepted")
    max_wait: float = Field(default=600.0, description="largest ?wait= in seconds")
    cancel_grace: float = Field(default=0.5, description="interrupt -> SIGTERM, seconds")
    kill_grace: float = Field(default=0.5, description="SIGTERM -> SIGKILL, seconds")
    watchdog_grace: float = Field(default=15.0, description="seconds past time_limit before kill")
    job_ttl: float = Field(default=7 * 86400.0, description="finished jobs are purged after")
    retention_interval: float = Field(default=600.0, description="seconds between purges")

    # --- client side (client.py and the CLI) ---
    server_url: str = "http://127.0.0.1:8000"
    api_key: str | None = Field(default=None, description="key the client sends")

    @property
    def decompression_limits(self) -> DecompressionLimits:
        """How far an uploaded compressed model may expand."""
        return DecompressionLimits(
            max_bytes=self.max_decompressed_bytes, max_ratio=self.max_decompression_ratio
        )

    @property
    def model_dirs(self) -> tuple[Path, ...]:
        """The model registry's search path: the user's own models, then ``model_dir``."""
        return (self.user_model_dir or self.data_dir / "models", self.model_dir)

    @property
    def registry_path(self) -> str:
        """``model_dirs`` as one string (``os.pathsep``-joined), as worker processes get it."""
        return os.pathsep.join(str(d) for d in self.model_dirs)

    @property
    def api_key_list(self) -> list[str]:
        """The configured API keys (empty list: open local mode)."""
        return [k.strip() for k in self.api_keys.split(",") if k.strip()]

    @property
    def database_url(self) -> str:
        """The store's URL, defaulting to SQLite under the data directory."""
        if self.db_url:
            if "://" not in self.db_url:
                return f"sqlite:///{Path(self.db_url).resolve()}"
            scheme, rest = self.db_url.split("://", 1)
            if scheme in ("postgres", "postgresql"):  # the driver we ship (extra 'postgres')
                return f"postgresql+psycopg://{rest}"
            return self.db_url
        return f"sqlite:///{(self.data_dir / 'mipguide.db').resolve()}"


def get_settings() -> Settings:
    """A fresh Settings read from the environment."""
    return Settings()
