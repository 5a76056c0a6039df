"""PaS prediction and SRG sampling on the device pool (real worker processes, the shipped
models): the pool's answers equal the in-process ones, PaS requests of one model are batched
into one forward pass, and job workers reach the pool through the server's socket."""

from __future__ import annotations

import multiprocessing as mp
from collections.abc import Iterator
from multiprocessing.connection import Client
from pathlib import Path

import numpy as np
import pytest
import torch

from mipguide.features import build_graph
from mipguide.gpu.client import DeviceServer, SocketDeviceClient
from mipguide.gpu.pool import DevicePool, RequestFailedError
from mipguide.gpu.protocol import WorkerConfig
from mipguide.guidance.params import SamplingParams
from mipguide.guidance.predict import predict
from mipguide.guidance.remote import ModelAt, PasRequest, RemoteAnswer, SrgRequest
from mipguide.guidance.rows import guidance_rows
from mipguide.guidance.sample import sample_candidates
from mipguide.instances.registry import generate
from mipguide.models.registry import load_model
from mipguide.settings import SHIPPED_MODELS

REGISTRY = str(SHIPPED_MODELS)


@pytest.fixture(scope="module")
def pool() -> Iterator[DevicePool]:
    # a wide coalescing window: requests sent together are batched
    p = DevicePool([WorkerConfig(coalesce_wait=0.5)]).start()
    yield p
    p.close()


def _model(ref: str) -> tuple[ModelAt, object]:
    loaded = load_model(ref, SHIPPED_MODELS, "cpu")
    return ModelAt.of(loaded, REGISTRY), loaded


def test_pas_on_the_pool_equals_in_process_and_one_model_is_one_batch(pool: DevicePool) -> None:
    torch.set_num_threads(1)
    at, loaded = _model("pas-setcover@1")
    graphs = [build_graph(generate("setcover", "easy", seed)) for seed in (0, 1, 2)]
    futures = [pool.submit("pas", PasRequest(at, g), at.key) for g in graphs]
    answers: list[RemoteAnswer] = [f.result(60) for f in futures]
    for g, answer in zip(graphs, answers, strict=True):
        local = predict(g, loaded).probs  # type: ignore[arg-type]
        assert answer.output.shape == local.shape
        np.testing.assert_allclose(answer.output, local, atol=1e-5)
    # one worker process answered, in one forward pass over the three graphs
    assert {a.pid for a in answers} == set(pool.stats().workers)
    assert [a.batch for a in answers] == [3, 3, 3]
    assert pool.stats().max_batch_requests == 3


def test_srg_on_the_pool_equals_in_process(pool: DevicePool) -> None:
    torch.set_num_threads(1)
    at, loaded = _model("srg-indset@1")
    problem = generate("indset", "easy", 0)
    graph, rows = build_graph(problem), guidance_rows(problem)
    params = SamplingParams(k=4, steps=4)
    answer = pool.submit("srg", SrgRequest(at, graph, rows, params, 7, None, True)).result(60)
    samples, first = answer.output
    local = sample_candidates(graph, rows, loaded, params, 7)  # type: ignore[arg-type]
    np.testing.assert_array_equal(samples.x, local.x)
    assert first is not None and first.shape == (samples.x.shape[1],)
    assert samples.steps == 4 and answer.device == "cpu"


def test_a_wrong_kind_of_model_fails_its_request_with_the_reason(pool: DevicePool) -> None:
    at, _ = _model("srg-indset@1")
    graph = build_graph(generate("indset", "easy", 0))
    with pytest.raises(RequestFailedError, match="mode pas needs a pas model"):
        pool.submit("pas", PasRequest(at, graph), at.key).result(60)


def _from_another_process(client: SocketDeviceClient, out: mp.Queue) -> None:  # type: ignore[type-arg]
    out.put(client.run("echo", {"from": "child"}))


def test_job_workers_reach_the_pool_through_the_servers_socket(
    pool: DevicePool, tmp_path: Path
) -> None:
    server = DeviceServer(pool)
    client = server.client()
    try:
        assert Path(client.address).parent.stat().st_mode & 0o777 == 0o700
        ctx = mp.get_context("spawn")
        out = ctx.Queue()
        child = ctx.Process(target=_from_another_process, args=(client, out))
        child.start()
        assert out.get(timeout=60) == {"from": "child"}
        child.join(30)
        # a handler's failure comes back as an error, not a hang
        with pytest.raises(RequestFailedError, match="unknown request kind"):
            client.run("no-such-kind", None)
        # a peer without the key is refused, and the server goes on serving
        with pytest.raises(Exception):  # noqa: B017 (AuthenticationError or a reset)
            Client(client.address, family="AF_UNIX", authkey=b"wrong").close()
        assert client.run("echo", 5) == 5
    finally:
        server.close()
    assert not Path(client.address).exists()
    with pytest.raises(RequestFailedError, match="not reachable"):
        client.run("echo", 1)


def test_a_guide_runs_its_network_itself_when_the_pool_fails(tmp_path: Path) -> None:
    from mipguide.guidance.dispatch import ModeRequest, solve_request
    from mipguide.solvers.types import SolveOptions

    problem = generate("setcover", "easy", 0)
    gone = SocketDeviceClient(str(tmp_path / "no-pool.sock"), b"key")
    request = ModeRequest(mode="pas", model="pas-setcover@1", runner=gone)
    result = solve_request(problem, "scip", SolveOptions(time_limit=30), request)
    assert result.status.value in ("optimal", "feasible") and result.max_violation <= 1e-6
    inference = result.extra["pas"]["inference"]
    assert inference["where"] == "job worker" and inference["device"] == "cpu"
    assert "device pool (local) failed: the device pool is not reachable" in inference["fallback"]
