"""API keys: ``Authorization: Bearer <key>`` or ``X-API-Key``; the owner of a job is a hash.

With no keys configured the server runs in open local mode: everyone sees every job.
"""

from __future__ import annotations

import hashlib
import hmac
from dataclasses import dataclass

from fastapi import HTTPException, Request


@dataclass(frozen=True)
class Caller:
    """Who is calling.

    Attributes:
        owner: stored with the jobs it submits (a key hash; "" in open mode).
        scope: the owner whose jobs it may see, or None for all (open mode).
    """

    owner: str
    scope: str | None


def key_hash(key: str) -> str:
    return hashlib.sha256(key.encode("utf-8", "surrogateescape")).hexdigest()[:32]


def presented_key(request: Request) -> str | None:
    auth = request.headers.get("authorization", "")
    if auth.lower().startswith("bearer "):
        return auth[7:].strip()
    return request.headers.get("x-api-key")


def caller(request: Request) -> Caller:
    """FastAPI dependency: the caller, or 401 when keys are configured and none matches."""
    keys: list[str] = request.app.state.settings.api_key_list
    if not keys:
        return Caller(owner="", scope=None)
    key = presented_key(request)
    if key is not None and key_matches(key, keys):
        owner = key_hash(key)
        return Caller(owner=owner, scope=owner)
    raise unauthorized()


def key_matches(key: str, keys: list[str]) -> bool:
    """Constant-time comparison of a presented key with each configured one, as UTF-8 bytes
    (``hmac.compare_digest`` refuses non-ASCII str, and a header may carry any byte)."""
    presented = key.encode("utf-8", "surrogateescape")
    found = False
    for k in keys:
        found |= hmac.compare_digest(presented, k.encode("utf-8", "surrogateescape"))
    return found


def unauthorized() -> HTTPException:
    return HTTPException(
        status_code=401,
        detail="missing or unknown API key (Authorization: Bearer <key> or X-API-Key)",
        headers={"WWW-Authenticate": "Bearer"},
    )


def metrics_access(request: Request) -> None:
    """FastAPI dependency of ``/metrics``: open when no keys are configured; else a configured
    API key or the ``metrics_token`` setting (Prometheus' bearer token), else 401."""
    settings = request.app.state.settings
    allowed = list(settings.api_key_list)
    if settings.metrics_token:
        allowed.append(settings.metrics_token)
    if not settings.api_key_list and not settings.metrics_token:
        return
    key = presented_key(request)
    if key is None or not key_matches(key, allowed):
        raise unauthorized()
