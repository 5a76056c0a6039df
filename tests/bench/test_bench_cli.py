"""``mipguide bench cli`` runs real cold processes and reports both sides of each case."""

from __future__ import annotations

import io
import subprocess
import sys

from rich.console import Console

from mipguide.bench.cli import CASES, run_bench_cli


def test_bench_cli_times_ours_and_the_bare_script() -> None:
    out = io.StringIO()
    results = run_bench_cli(1, Console(file=out, width=200))
    assert [r.case for r in results] == [c.name for c in CASES]
    for r in results:
        assert len(r.ours) == len(r.bare) == 1 and min(r.ours + r.bare) > 0
    text = out.getvalue()
    assert "tiny MILP, scip" in text and "mipguide doctor" in text and "overhead" in text


def test_an_exact_cli_solve_imports_no_torch_httpx_or_pydantic(tmp_path) -> None:  # noqa: ANN001
    from mipguide.bench.api import TINY_MPS

    path = tmp_path / "tiny.mps"
    path.write_text(TINY_MPS)
    code = (
        "import sys; from typer.testing import CliRunner; from mipguide.cli import app; "
        f"r = CliRunner().invoke(app, ['solve', {str(path)!r}, '--solver', 'scip']); "
        "assert r.exit_code == 0, r.output; "
        "print(sorted(m for m in sys.modules if m.split('.')[0] in ('torch', 'httpx', 'pydantic')))"
    )
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.strip().splitlines()[-1] == "[]"
