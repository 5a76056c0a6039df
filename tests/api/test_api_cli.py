"""``mipguide submit | jobs | cancel`` against the running server."""

from __future__ import annotations

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
