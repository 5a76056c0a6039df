"""``mipguide submit | jobs | cancel | status | result | log`` against the running server."""

from __future__ import annotations

import json
import re
from pathlib import Path

from typer.testing import CliRunner

from mipguide.cli import app
from tests.api.serverutil import KEY_A, Server


def test_submit_wait_jobs_and_cancel(server: Server, miplib_dir: Path) -> None:
    runner = CliRunner()
    common = ["--server", server.url, "--api-key", KEY_A]
    files = [str(miplib_dir / "p0033.mps.gz"), str(miplib_dir / "stein27.mps.gz")]
    out = runner.invoke(app, ["submit", *files, *common, "--wait", "--tag", "cli"])
    assert out.exit_code == 0, out.output
    assert re.search(r"p0033\.mps\.gz\s+completed\s+optimal\s+objective=3089", out.output)
    assert re.search(r"stein27\.mps\.gz\s+completed\s+optimal\s+objective=18", out.output)
    listed = runner.invoke(app, ["jobs", *common, "--tag", "cli"])
    assert listed.exit_code == 0 and "2 of 2 jobs" in listed.output
    job_id = out.output.split()[0]
    cancelled = runner.invoke(app, ["cancel", job_id, *common])
    assert cancelled.exit_code == 0 and "completed" in cancelled.output
    bad = runner.invoke(app, ["submit", str(miplib_dir / "catalog.csv"), *common])
    assert bad.exit_code == 2 and "415" in bad.output


def test_submit_takes_the_api_options_and_status_result_log_read_back(
    server: Server, miplib_dir: Path
) -> None:
    runner = CliRunner()
    common = ["--server", server.url, "--api-key", KEY_A]
    path = str(miplib_dir / "p0033.mps.gz")
    args = ["--mode", "auto", "--gap", "0", "--seed", "2", "--threads", "1", "--priority", "7"]
    args += ["--param", "limits/nodes=100000", "--pas", "region.k0=0.5", "--tag", "cliopts"]
    out = runner.invoke(app, ["submit", path, *common, *args, "--wait"])
    assert out.exit_code == 0, out.output
    job_id = out.output.split()[0]
    shown = runner.invoke(app, ["status", job_id, *common])
    assert shown.exit_code == 0, shown.output
    job = json.loads(shown.output)
    assert job["id"] == job_id and job["priority"] == 7 and job["tags"] == ["cliopts"]
    opts = job["options"]
    assert opts["mode"] == "auto" and opts["seed"] == 2 and opts["gap"] == 0
    assert opts["params"] == {"limits/nodes": 100000} and opts["pas"] == {"region": {"k0": 0.5}}
    sol = runner.invoke(app, ["result", job_id, *common, "--format", "sol"])
    assert sol.exit_code == 0 and "objective value: 3089" in sol.output
    as_json = runner.invoke(app, ["result", job_id, *common])
    assert json.loads(as_json.output)["objective"] == 3089
    log = runner.invoke(app, ["log", job_id, *common])
    assert log.exit_code == 0 and "completed" in log.output
    listed = runner.invoke(app, ["jobs", *common, "--tag", "cliopts", "--json"])
    assert [j["id"] for j in json.loads(listed.output)["items"]] == [job_id]  # whole ids
    refused = runner.invoke(app, ["submit", path, *common, "--mode", "srg", "--pas", "x=1"])
    assert refused.exit_code == 2 and "pas" in refused.output
    missing = runner.invoke(app, ["status", "0" * 32, *common])
    assert missing.exit_code == 2 and "404" in missing.output


def test_models_lists_the_servers_models(server: Server) -> None:
    runner = CliRunner()
    common = ["--server", server.url, "--api-key", KEY_A]
    out = runner.invoke(app, ["models", *common, "--kind", "pas", "--json"])
    assert out.exit_code == 0, out.output
    refs = {m["ref"]: m for m in json.loads(out.output)["items"]}
    assert "pas-setcover@1" in refs and not any(r.startswith("srg-") for r in refs)
    assert refs["pas-setcover@1"]["registry"] == "shipped"
    card = runner.invoke(app, ["models", "pas-indset@1", *common])
    assert json.loads(card.output)["card"]["family"] == "indset"
    missing = runner.invoke(app, ["models", "nope@1", *common])
    assert missing.exit_code == 2 and "404" in missing.output


def test_watch_follows_a_job_to_its_end(server: Server, miplib_dir: Path) -> None:
    runner = CliRunner()
    common = ["--server", server.url, "--api-key", KEY_A]
    path = str(miplib_dir / "p0033.mps.gz")
    submitted = runner.invoke(app, ["submit", path, *common, "--tag", "watched"])
    assert submitted.exit_code == 0, submitted.output
    job_id = submitted.output.split()[0]
    out = runner.invoke(app, ["watch", job_id, *common])
    assert out.exit_code == 0, out.output
    lines = out.output.splitlines()
    found = [ln for ln in lines if " incumbent " in ln]
    assert found, out.output  # each incumbent: time, objective, bound, gap, source
    assert re.match(r"\s+\d+\.\d{3} s  incumbent \S+  bound \S+(  gap \S+%)?  \(\w+\)$", found[-1])
    assert "incumbent 3089" in found[-1]
    assert re.match(rf"{job_id}  completed  optimal  objective=3089", lines[-1])
    missing = runner.invoke(app, ["watch", "0" * 32, *common])
    assert missing.exit_code == 2 and "404" in missing.output
