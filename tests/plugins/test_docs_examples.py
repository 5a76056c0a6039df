"""The Python examples of docs/plugins.md and of the README's pipeline section run as written,
each in a fresh interpreter (PuLP's import of highspy must stay out of this process), and print
what their ``# -> `` lines say. Those naming the URL ``http://127.0.0.1:8000`` run against the
test server instead."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from tests.api.serverutil import KEY_A

ROOT = Path(__file__).parents[2]
DOC = ROOT / "docs" / "plugins.md"
README = (ROOT / "README.md").read_text()
README_SECTION = README.split("## In your pipeline", 1)[1].split("\n## ")[0]
URL = "http://127.0.0.1:8000"
DOC_BLOCKS = re.findall(r"```python\n(.*?)```", DOC.read_text(), flags=re.DOTALL)
README_BLOCKS = re.findall(r"```python\n(.*?)```", README_SECTION, flags=re.DOTALL)
BLOCKS = DOC_BLOCKS + README_BLOCKS


def _expected(code: str) -> list[str]:
    return [line[len("# -> ") :] for line in code.splitlines() if line.startswith("# -> ")]


def test_the_doc_has_local_and_remote_examples_that_say_what_they_print() -> None:
    remote = [code for code in DOC_BLOCKS if URL in code]
    assert len(DOC_BLOCKS) == 7 and len(remote) == 4
    assert len(README_BLOCKS) == 3  # PuLP, Pyomo, linopy
    assert all(_expected(code) for code in BLOCKS)


@pytest.mark.parametrize("index", range(len(BLOCKS)))
def test_example_runs_and_prints_what_it_says(
    index: int, request: pytest.FixtureRequest, tmp_path: Path
) -> None:
    code = BLOCKS[index]
    if URL in code:
        code = code.replace(URL, request.getfixturevalue("server").url)
    env = {**os.environ, "MIPGUIDE_API_KEY": KEY_A}
    out = subprocess.run(
        [sys.executable, "-c", code],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert out.returncode == 0, out.stderr
    assert out.stdout.splitlines() == _expected(code), out.stderr
