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
    return hashlib.sha256(key.encode()).hexdigest()[:32]


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
    if key is not None and any(hmac.compare_digest(key, k) for k in keys):
        owner = key_hash(key)
        return Caller(owner=owner, scope=owner)
    raise HTTPException(
        status_code=401,
        detail="missing or unknown API key (Authorization: Bearer <key> or X-API-Key)",
        headers={"WWW-Authenticate": "Bearer"},
    )
