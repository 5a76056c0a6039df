"""The one reader of the environment: ``Settings`` (pydantic-settings, prefix ``MIPGUIDE_``).

CLI flags override fields of the same object (``settings.model_copy(update=...)``).
"""

from __future__ import annotations

from pathlib import Path

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict


class Settings(BaseSettings):
    """Runtime configuration. Every field can be set as ``MIPGUIDE_<FIELD>`` in the environment."""

    model_config = SettingsConfigDict(env_prefix="MIPGUIDE_", extra="ignore")

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
    model_dir: Path = Field(
        default=Path("models/weights"), description="registry root: NAME@VERSION directories"
    )


def get_settings() -> Settings:
    """A fresh Settings read from the environment."""
    return Settings()
