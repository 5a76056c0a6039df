"""Model files named on a command line: files, folders and glob patterns -> model file paths.

A folder stands for the model files under it (recursively: ``.mps``, ``.lp``, ``.json``, each
optionally compressed); a pattern (``data/*.mps.gz``, ``runs/**/*.lp``) for the model files it
matches. The result is sorted and without duplicates, so a command's choice of files (and a
seeded split of them) does not depend on the order the file system lists them.
"""

from __future__ import annotations

import glob
from collections.abc import Sequence
from pathlib import Path

from mipguide.errors import InputError
from mipguide.problem.io import SUPPORTED, format_of

_GLOB = frozenset("*?[")


def model_files(specs: Sequence[str | Path]) -> list[Path]:
    """The model files that ``specs`` name.

    Raises:
        InputError: a spec that names nothing, a file whose format is not read, or no file at all.
    """
    found: dict[Path, None] = {}
    for spec in specs:
        text = str(spec)
        if _GLOB & set(text):
            matches = [Path(m) for m in glob.glob(text, recursive=True)]
            files = [m for m in matches if m.is_file() and format_of(m.name)]
            if not files:
                raise InputError(f"{text}: matches no model file ({SUPPORTED})")
        elif Path(text).is_dir():
            files = [m for m in Path(text).rglob("*") if m.is_file() and format_of(m.name)]
            if not files:
                raise InputError(f"{text}: a folder with no model file ({SUPPORTED})")
        elif Path(text).is_file():
            if not format_of(text):
                raise InputError(f"{text}: not a model file ({SUPPORTED})")
            files = [Path(text)]
        else:
            raise InputError(f"{text}: no such file or folder")
        found.update(dict.fromkeys(f.resolve() for f in files))
    if not found:
        raise InputError("no model files given")
    return sorted(found)
