"""The device worker process: (WorkerConfig, request queue) -> responses, until told to stop.

It sets CUDA_VISIBLE_DEVICES before torch is imported, then loops (``serve``, which the Ray
device actor runs too): take a request, wait up to
``coalesce_wait`` for more (at most ``max_batch``), group them by (kind, coalesce key), run each
group through its kind's handler as one batch, and answer every request.
"""

from __future__ import annotations

import importlib
import os
import queue
import sys
import time
import traceback
from collections.abc import Callable
from typing import Any

from mipguide.errors import scrub_paths
from mipguide.gpu.allocator import keep_freed_memory
from mipguide.gpu.context import WorkerContext
from mipguide.gpu.protocol import WorkerConfig, WorkerHello, WorkRequest, WorkResponse

# kind -> "module:function"; the function takes (payloads, WorkerContext) and returns one output
# per payload. Imported lazily inside the worker.
HANDLERS: dict[str, str] = {
    "dmmv": "mipguide.gpu.dmmv_handler:handle_dmmv",
    "pas": "mipguide.gpu.inference:handle_pas",
    "srg": "mipguide.gpu.inference:handle_srg",
    "echo": "mipguide.gpu.worker:handle_echo",
}


def handle_echo(payloads: list[Any], ctx: WorkerContext) -> list[Any]:
    """A trivial kind for health checks and tests: returns each payload (sleeping if asked)."""
    for p in payloads:
        if isinstance(p, dict) and p.get("sleep"):
            time.sleep(float(p["sleep"]))
    return list(payloads)


def _handler(kind: str) -> Callable[[list[Any], WorkerContext], list[Any]]:
    module, name = HANDLERS[kind].split(":")
    fn: Callable[[list[Any], WorkerContext], list[Any]] = getattr(
        importlib.import_module(module), name
    )
    return fn


def _collect(requests: Any, first: WorkRequest, config: WorkerConfig) -> tuple[list, bool]:
    """The first request plus whatever arrives within the coalescing window; stop flag."""
    pending = [first]
    deadline = time.perf_counter() + config.coalesce_wait
    while len(pending) < config.max_batch:
        remaining = deadline - time.perf_counter()
        try:
            item = (
                requests.get(timeout=max(remaining, 0.0))
                if remaining > 0
                else requests.get_nowait()
            )
        except queue.Empty:
            break
        if item is None:
            return pending, True
        pending.append(item)
    return pending, False


def _run_group(group: list[WorkRequest], ctx: WorkerContext, batch_id: int) -> list[WorkResponse]:
    pid = os.getpid()
    try:
        if group[0].kind not in HANDLERS:
            raise ValueError(f"unknown request kind {group[0].kind!r}")
        outputs = _handler(group[0].kind)([r.payload for r in group], ctx)
    except Exception as exc:
        # the traceback goes to the server's log (stderr); the caller sees what failed
        print(f"[mipguide device worker {pid}] batch {batch_id} failed:", file=sys.stderr)
        traceback.print_exc(file=sys.stderr)
        detail = scrub_paths(f"{type(exc).__name__}: {exc}")
        return [WorkResponse(r.id, False, None, detail, batch_id, len(group), pid) for r in group]
    out = []
    for req, payload in zip(group, outputs, strict=True):
        items = payload if isinstance(payload, list) else [payload]
        fallback = any(bool(getattr(x, "fallback", False)) for x in items)
        out.append(WorkResponse(req.id, True, payload, "", batch_id, len(group), pid, fallback))
    return out


def worker_main(config: WorkerConfig, requests: Any, responses: Any) -> None:
    """Entry point of the worker process (spawned)."""
    if config.visible_devices is not None:
        os.environ["CUDA_VISIBLE_DEVICES"] = config.visible_devices
    torch_before = "torch" in sys.modules
    import torch

    torch.set_num_threads(max(1, config.threads))
    keep_freed_memory()
    responses.put(
        WorkerHello(
            os.getpid(), config.device, os.environ.get("CUDA_VISIBLE_DEVICES"), torch_before
        )
    )
    serve(config, requests, responses)


def serve(config: WorkerConfig, requests: Any, responses: Any) -> None:
    """The worker's loop over any queue pair (``get``, ``get_nowait`` / ``put``): collect,
    group, run, answer; until a None request."""
    ctx = WorkerContext(config)
    batch_id = 0
    stop = False
    while not stop:
        first = requests.get()
        if first is None:
            break
        pending, stop = _collect(requests, first, config)
        groups: dict[tuple[str, str], list[WorkRequest]] = {}
        for req in pending:
            groups.setdefault((req.kind, req.coalesce_key), []).append(req)
        for group in groups.values():
            batch_id += 1
            for resp in _run_group(group, ctx, batch_id):
                responses.put(resp)
