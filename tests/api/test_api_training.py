"""Guidance for a key's own problems over HTTP: POST /v1/models trains a model (a job of kind
train) from uploaded files and from a tag of past jobs; mode=auto then uses it for that key
only; the models of one key are invisible to another; DELETE removes a key's own model.

Everything is real: the app's job store and worker processes, SCIP pools, torch training.
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from typer.testing import CliRunner

from mipguide.api.auth import key_hash
from mipguide.cli import app as cli
from mipguide.client import ApiError, MipguideClient
from mipguide.jobs.store import JobStore
from tests.api.conftest import MODEL_DIR
from tests.api.serverutil import KEY_A, KEY_B, InProcess, Server, in_process

pytestmark = pytest.mark.slow

# pool_time counts from the call: a HiGHS pool starts its own interpreter (about 0.3 s)
FAST = {"epochs": 2, "pool_time": 1.0, "pool_k": 4, "tune_time": 0}


@pytest.fixture(scope="module")
def files(tmp_path_factory: pytest.TempPathFactory) -> list[Path]:
    """Six easy vertex-cover instances (no shipped model matches them)."""
    folder = tmp_path_factory.mktemp("vc")
    res = CliRunner().invoke(
        cli, ["generate", "vertexcover", "--size", "easy", "--seeds", "0-5", "--out", str(folder)]
    )
    assert res.exit_code == 0, res.output
    return sorted(folder.glob("*.mps"))


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[InProcess]:
    with in_process(
        tmp_path_factory.mktemp("train"), workers=2, model_dir=MODEL_DIR, device="cpu"
    ) as served:
        yield served


def trained(client: MipguideClient, job_id: str) -> dict:  # type: ignore[type-arg]
    job = client.wait(job_id, timeout=240)
    assert job.state == "completed", (job.error, client.log(job_id)[0])
    result = client.result_json(job_id)
    assert result["kind"] == "train" and result["status"] == "trained"
    return result


def test_train_on_files_then_auto_uses_it_for_this_key_only(
    served: InProcess, files: list[Path]
) -> None:
    a, b = served.client(KEY_A), served.client(KEY_B)
    job = a.train("vc@1", files[:4], **{**FAST, "tune_time": 0.5}, seed=1)
    assert job.raw["kind"] == "train" and job.state in ("queued", "running")
    result = trained(a, job.id)
    assert result["model"] == "vc@1" and result["train_instances"] + result["val_instances"] == 4
    assert result["metrics"]["epochs_run"] == 2 and result["signature"] == ["vc"]
    log = a.log(job.id)[0]
    assert "[train] solution pools 4/4" in log and "[train] epoch 1" in log

    mine = {m["ref"]: m for m in a.models()}
    assert mine["vc@1"]["registry"] == "key" and mine["vc@1"]["source"] == "files"
    assert mine["pas-setcover@1"]["registry"] == "shipped"  # the shipped ones are shared
    card = a.model("vc@1")["card"]
    # training ended by choosing the search settings from the declared grid on validation
    tuning = card["tuning"]  # the choice: a grid point, or one run again on another backend
    shape = tuning["choice"].partition("@")[0]
    assert result["search_settings"] == tuning["choice"] and card["pas"] == tuning["grid"][shape]
    assert tuning["budget_seconds"] == 0.5 and len(tuning["instances"]) == 1
    guided = [f for p, f in tuning["figures"].items() if not p.startswith("plain@")]
    best = min(f["primal_integral"] for f in guided)
    assert tuning["figures"][tuning["choice"]]["primal_integral"] == best
    assert "[train] search settings chosen" in log
    assert sorted(card["training_data"]["files"]) == sorted(f.name for f in files[:4])
    assert all("/" not in f for f in card["training_data"]["files"])  # no server paths

    # the other key sees neither the model nor its card, and cannot name it
    assert "vc@1" not in {m["ref"] for m in b.models()}
    with pytest.raises(ApiError) as err:
        b.model("vc@1")
    assert err.value.status == 404
    with pytest.raises(ApiError) as err:
        b.submit(files[5], mode="pas", model="vc@1", time_limit=5)
    assert err.value.status in (404, 422) and "vc@1" in str(err.value)

    # mode=auto: this key's instance of the family gets its model, the other key's does not
    ours = a.submit(files[5], mode="auto", time_limit=10, wait=60)
    assert ours.state == "completed", ours.error
    assert ours.raw["result"]["mode"] == "pas"
    assert ours.raw["result"]["extra"]["auto"]["model"] == "vc@1"
    assert ours.raw["result"]["max_violation"] <= 1e-6
    theirs = b.submit(files[5], mode="auto", time_limit=10, wait=60)
    assert theirs.raw["result"]["mode"] == "exact"
    assert theirs.raw["result"]["extra"]["auto"]["model"] is None
    assert theirs.raw["result"]["max_violation"] <= 1e-6
    bound = theirs.raw["result"]["bound"]  # vertex cover minimizes: a proven lower bound
    assert ours.objective is not None and ours.objective >= bound - 1e-6

    # a name the key already sees is taken
    with pytest.raises(ApiError) as err:
        a.train("vc@1", files[:2], **FAST)
    assert err.value.status == 409
    with pytest.raises(ApiError) as err:
        a.train("pas-setcover@1", files[:2], **FAST)
    assert err.value.status == 409


def test_train_from_a_tag_of_past_jobs(served: InProcess, files: list[Path]) -> None:
    a, b = served.client(KEY_A), served.client(KEY_B)
    ids = [a.submit(f, time_limit=2, tags=["vc-jobs"]).id for f in files[:3]]
    again = a.submit(files[0], time_limit=2, seed=1, tags=["vc-jobs"]).id  # same problem
    b.submit(files[3], time_limit=2, tags=["vc-jobs"], wait=60)  # another key's: not used
    for job_id in [*ids, again]:
        assert a.wait(job_id, timeout=60).state == "completed"
    # the archive keeps the other solutions SCIP found too, not only each job's final one
    store = JobStore(f"sqlite:///{served.data_dir / 'mipguide.db'}")
    kept = store.solutions(key_hash(KEY_A), "vc-jobs")
    assert len(kept) > 4 and {s.job_id for s in kept} == {*ids, again}
    store.engine.dispose()
    with pytest.raises(ApiError) as err:
        b.train("vc-b@1", from_tag="vc-jobs", **FAST)  # one instance only for key B
    assert err.value.status == 422 and "at least 2" in str(err.value)

    job = a.train(
        "vc-jobs@1", from_tag="vc-jobs", epochs=2, pool_time=0, val_share=0.34, tune_time=0
    )
    result = trained(a, job.id)
    assert result["train_instances"] + result["val_instances"] == 3  # distinct problems
    data = a.model("vc-jobs@1")["card"]["training_data"]
    assert data["source"] == "jobs" and data["from_tag"] == "vc-jobs"
    assert data["pool"]["time_limit"] == 0  # the pools are the jobs' solutions alone

    with pytest.raises(ApiError) as err:
        a.train("vc-none@1", from_tag="no-such-tag", **FAST)
    assert err.value.status == 422 and "no-such-tag" in str(err.value)

    # deleting a job forgets its solution: a tag whose jobs are all gone trains nothing
    lone = a.submit(files[4], time_limit=2, tags=["vc-gone"], wait=60)
    lone2 = a.submit(files[5], time_limit=2, tags=["vc-gone"], wait=60)
    for job in (lone, lone2):
        assert a.cancel(job.id, purge=True) is None
    with pytest.raises(ApiError) as err:
        a.train("vc-gone@1", from_tag="vc-gone", **FAST)
    assert err.value.status == 422


def test_bad_training_requests_say_what_is_wrong(served: InProcess, files: list[Path]) -> None:
    a = served.client(KEY_A)
    with served.http(KEY_A) as http:
        cases = [
            ({"name": "no-version"}, 422, "name"),
            ({"name": "x@1", "epochs": 0}, 422, "epochs"),
            ({"name": "x@1", "colour": "red"}, 422, "colour"),
            ({"name": "x@1"}, 422, "at least 2"),
            ({"name": "../x@1", "from_tag": "t"}, 422, "name"),
        ]
        for body, status, where in cases:
            resp = http.post("/v1/models", json=body)
            assert resp.status_code == status, (body, resp.text)
            assert where in resp.text and "/tmp" not in resp.text
        lp = "Minimize\n obj: x + y\nSubject To\n c: x + y >= 1\nEnd\n"
        resp = http.post(
            "/v1/models",
            files=[("file", ("a.lp", lp.encode())), ("file", ("b.lp", lp.encode()))],
            data={"name": "lp@1"},
        )
        assert resp.status_code == 422 and "a.lp" in resp.text and "binary" in resp.text
        assert http.delete("/v1/models/pas-setcover@1").status_code == 403
        assert http.delete("/v1/models/nothing@1").status_code == 404
    assert a.job  # the client still works after the errors


def test_delete_a_keys_own_model(served: InProcess, files: list[Path]) -> None:
    a, b = served.client(KEY_A), served.client(KEY_B)
    trained(a, a.train("vc-del@1", files[:3], **FAST).id)
    with pytest.raises(ApiError) as err:
        b.delete_model("vc-del@1")  # not key B's to see, let alone delete
    assert err.value.status == 404
    a.delete_model("vc-del@1")
    assert "vc-del@1" not in {m["ref"] for m in a.models()}
    # the name is free again, and the new weights (not a stale cached copy) are used
    trained(a, a.train("vc-del@1", files[1:4], **FAST, seed=5).id)
    assert a.model("vc-del@1")["card"]["seed"] == 5


# binaries that no assignment satisfies: the pool run finds no solution
INFEASIBLE = b"Minimize\n obj: x + y\nSubject To\n c1: x + y >= 3\nBinary\n x y\nEnd\n"


def test_an_instance_without_a_pool_is_skipped_and_the_log_says_so(
    served: InProcess, files: list[Path]
) -> None:
    a = served.client(KEY_A)
    job = a.train("vc-skip@1", [*files[:4], ("none.lp", INFEASIBLE)], **FAST, val_share=0.4)
    result = trained(a, job.id)
    assert result["train_instances"] + result["val_instances"] == 4  # the four with a pool
    assert result["skipped_instances"] == 1
    assert a.model("vc-skip@1")["card"]["training_data"]["no_solution"] == ["4-none"]
    assert "[train] solution pools: no feasible solution in 1 s: 1 skipped" in a.log(job.id)[0]


def test_cancel_a_training_registers_nothing(served: InProcess, files: list[Path]) -> None:
    a = served.client(KEY_A)
    job = a.train(
        "vc-cancel@1", files[:4], epochs=1000, patience=1000, pool_time=2, pool_k=4, tune_time=0
    )
    deadline = time.monotonic() + 60
    while "[train] solution pools" not in a.log(job.id)[0]:
        assert time.monotonic() < deadline, a.log(job.id)[0]
        time.sleep(0.2)
    ended = a.cancel(job.id)
    assert ended is not None and ended.state == "cancelled", ended
    assert "vc-cancel@1" not in {m["ref"] for m in a.models()}
    leftovers = list((served.data_dir / "key-models").rglob("*vc-cancel*"))
    assert leftovers == []


def test_cli_trains_on_a_server_and_streams_progress(server: Server, files: list[Path]) -> None:
    """``mipguide train FILES --server``: the log lines stream as the job runs (SSE), the model
    joins the key's registry there; ``mipguide models REF --delete --server`` removes it."""
    runner = CliRunner()
    common = ["--server", server.url, "--api-key", KEY_A]
    args = ["train", *map(str, files[:3]), "--out", "vc-cli@1", "--epochs", "2", "--tune-time", "0"]
    out = runner.invoke(cli, [*args, "--pool-time", "1", "--pool-k", "4", *common])
    assert out.exit_code == 0, out.output
    assert "[train] solution pools 3/3" in out.output and "[train] epoch 1" in out.output
    assert "registered vc-cli@1" in out.output and "completed" in out.output
    listed = runner.invoke(cli, ["models", "--json", *common])
    rows = {r["ref"]: r for r in json.loads(listed.output)["items"]}
    assert rows["vc-cli@1"]["registry"] == "key"

    # the same through the client: progress events (pools, then epochs) on the stream
    client = server.client(KEY_A)
    job = client.train("vc-cli@2", files[:3], **FAST)
    events = [e for e in client.events(job.id) if e.kind == "progress"]
    stages = [e.data["stage"] for e in events]
    assert stages.count("epoch") == 2 and "pools" in stages
    assert events[-1].data["done"] == events[-1].data["total"] == 2

    gone = runner.invoke(cli, ["models", "vc-cli@1", "--delete", *common])
    assert gone.exit_code == 0 and "deleted vc-cli@1" in gone.output
    again = runner.invoke(cli, ["models", "vc-cli@1", "--delete", *common])
    assert again.exit_code == 2 and "404" in again.output
    shipped = runner.invoke(cli, ["models", "pas-setcover@1", "--delete", *common])
    assert shipped.exit_code == 2 and "403" in shipped.output
    refused = runner.invoke(cli, ["train", "--from-tag", "x", "--out", "d/x@1", *common])
    assert refused.exit_code == 2 and "--out" in refused.output
