"""What the light install (``pip install mipguide``) lacks, and the message that says so."""

from __future__ import annotations

# top-level modules of the server extra (``pip install 'mipguide[server]'``)
SERVER_EXTRA = frozenset(
    {"torch", "torch_geometric", "pyscipopt", "ortools", "google", "fastapi", "uvicorn"}
    | {"sqlalchemy", "sse_starlette", "multipart", "matplotlib", "safetensors", "prometheus_client"}
)


def missing_extra(exc: BaseException) -> str | None:
    """The server-extra module whose absence caused ``exc`` (None: another cause)."""
    seen: BaseException | None = exc
    while seen is not None:
        if isinstance(seen, ModuleNotFoundError) and seen.name:
            top = seen.name.split(".")[0]
            return top if top in SERVER_EXTRA else None
        seen = seen.__cause__
    return None


def needs_server_extra(module: str) -> str:
    """The error message for a command that needs ``module``."""
    return f"this needs {module}, which the light install lacks: pip install 'mipguide[server]'"
