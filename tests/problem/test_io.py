"""read_problem / write_problem: format from fmt, file name or content; errors name the file."""

from __future__ import annotations

import bz2
import gzip
import json
from pathlib import Path

import pytest

from mipguide.errors import ParseError, UnsupportedFormatError
from mipguide.problem import read_problem, write_problem
from mipguide.problem.io import format_of
from mipguide.problem.jsonmodel import problem_to_json


@pytest.mark.parametrize(
    ("name", "fmt"),
    [
        ("a.mps", "mps"),
        ("a.MPS.GZ", "mps"),
        ("a.mps.bz2", "mps"),
        ("a.lp", "lp"),
        ("a.lp.gz", "lp"),
        ("a.lp.bz2", "lp"),
        ("a.json", "json"),
        ("a.txt", None),
        ("a.gz", None),
    ],
)
def test_format_of(name: str, fmt: str | None) -> None:
    assert format_of(name) == fmt


def test_sources_and_names(parser_cases_dir: Path, tmp_path: Path) -> None:
    path = parser_cases_dir / "ranges.mps"
    base = read_problem(path)
    data = path.read_bytes()
    assert read_problem(str(path)).same_as(base)
    assert read_problem(data).same_as(base)  # sniffed
    assert read_problem(gzip.compress(data)).same_as(base)
    assert read_problem(bz2.compress(data), filename="x.mps").same_as(base)
    assert read_problem(gzip.compress(data), filename="x.mps").same_as(base)  # magic wins
    assert read_problem(data, filename="upload.bin", fmt="mps").same_as(base)
    lp = (parser_cases_dir / "t.lp").read_bytes()
    assert read_problem(lp).num_rows == 2
    assert read_problem(bz2.compress(lp), filename="t.lp.bz2").num_rows == 2
    doc = json.dumps(problem_to_json(base)).encode()
    assert read_problem(doc).same_as(base)
    assert read_problem(doc, filename="m.json").same_as(base)


def test_parse_error_reports_the_given_name(parser_cases_dir: Path) -> None:
    data = (parser_cases_dir / "dup.mps").read_bytes()
    with pytest.raises(ParseError) as info:
        read_problem(data, filename="upload.mps")
    assert info.value.file == "upload.mps"
    with pytest.raises(ParseError) as info:
        read_problem(parser_cases_dir / "dup.mps")
    assert info.value.file.endswith("dup.mps")


def test_unsupported_formats(parser_cases_dir: Path, tmp_path: Path) -> None:
    with pytest.raises(UnsupportedFormatError, match=r"\.mps.*\.lp.*\.json"):
        read_problem(b"hello", filename="notes.txt")
    with pytest.raises(UnsupportedFormatError):
        read_problem(b"\x00\x01 binary")
    with pytest.raises(UnsupportedFormatError, match="unknown format"):
        read_problem(b"", fmt="xlsx")
    p = read_problem(parser_cases_dir / "ranges.mps")
    with pytest.raises(UnsupportedFormatError):
        write_problem(p, tmp_path / "x.lp")


def test_write_and_read_back(parser_cases_dir: Path, tmp_path: Path) -> None:
    p = read_problem(parser_cases_dir / "ranges.mps.gz")
    for name in ("a.mps", "a.mps.gz", "a.mps.bz2", "a.json"):
        write_problem(p, tmp_path / name)
        assert read_problem(tmp_path / name).same_as(p)
    assert (tmp_path / "a.mps.gz").read_bytes()[:2] == b"\x1f\x8b"
