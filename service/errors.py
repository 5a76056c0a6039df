"""The exception hierarchy of mipguide.

::

    MipguideError                 base of everything we raise on purpose
    ├── InputError                the caller's input is wrong (CLI exit 2, HTTP 4xx)
    │   ├── ParseError            a model file is malformed: names file, line, reason (HTTP 422)
    │   ├── UnsupportedFormatError   a file type we do not read (HTTP 415)
    │   ├── UnsupportedFeatureError  a valid model using a feature we refuse (semi-continuous)
    │   ├── UnsupportedProblemError  the chosen backend cannot take this problem (e.g. LP-only)
    │   ├── InvalidOptionError    unknown or out-of-range option/parameter (HTTP 422)
    │   ├── FieldError            a field of structured input (a DMMV instance) is wrong (HTTP 422)
    │   ├── PayloadTooLargeError  an input over a size limit: upload, decompressed bytes (HTTP 413)
    │   └── MalformedRequestError the request itself cannot be parsed (bad multipart) (HTTP 400)
    ├── BackendUnavailableError   a solver backend is not installed
    └── SolverError               a backend failed while solving (CLI exit 1, HTTP 500 on the job)

Anything else escaping is a bug (CLI exit 1).
"""

from __future__ import annotations

import re
from collections.abc import Iterable

# An absolute path of two or more components, not glued to a word ("LP it/n" is no path).
_ABS_PATH = re.compile(r"(?<![\w.~:/-])/(?:[\w.@+~-]+/)+[\w.@+~-]*")


def scrub_paths(text: str) -> str:
    """``text`` with absolute file paths replaced by ``<path>``: what a job's owner is shown
    must not reveal the server's directories."""
    return _ABS_PATH.sub("<path>", text)


class MipguideError(Exception):
    """Base class of all errors mipguide raises on purpose."""


class InputError(MipguideError):
    """The caller's input is wrong; the message says what and where."""


class ParseError(InputError):
    """A model file could not be read.

    Attributes:
        file: the file name (or ``<bytes>``) as given by the caller.
        line: 1-based line number of the offending line, or None when the error is not on one line.
        reason: what is wrong, in words.
        path: for JSON models, where in the document (``variable_names[7]``), else None.
    """

    def __init__(self, file: str, line: int | None, reason: str, path: str | None = None) -> None:
        self.file = file
        self.line = line
        self.reason = reason
        self.path = path
        where = f"{file}:{line}" if line is not None else file
        if path is not None:
            reason = f"{path}: {reason}"
        super().__init__(f"{where}: {reason}")


class UnsupportedFormatError(InputError):
    """The file type is not one we read."""


class UnsupportedFeatureError(ParseError):
    """The model is well formed but uses a feature we refuse (e.g. semi-continuous variables)."""


class UnsupportedProblemError(InputError):
    """The chosen solver backend cannot take this problem (the message says why)."""


class InvalidOptionError(InputError):
    """An option or backend parameter is unknown or invalid.

    Attributes:
        option: the offending option name.
        valid: the accepted names (or values), sorted, for the error message.
    """

    def __init__(self, option: str, reason: str, valid: Iterable[str] = ()) -> None:
        self.option = option
        self.valid = sorted(valid)
        msg = f"{option}: {reason}"
        if self.valid:
            msg += f" (valid: {', '.join(self.valid)})"
        super().__init__(msg)


class FieldError(InputError):
    """A field of structured input (e.g. the arrays of a DMMV instance) is missing or wrong.

    Attributes:
        field: the offending field, as the caller named it (``A``, ``levels``, ``x0``, ...).
        reason: what is wrong, in words.
    """

    def __init__(self, field: str, reason: str) -> None:
        self.field = field
        self.reason = reason
        super().__init__(f"{field}: {reason}")


class PayloadTooLargeError(InputError):
    """An input is over a size limit (the upload, its decompressed size or expansion ratio, a
    DMMV matrix); the message names the limit and its setting."""


class MalformedRequestError(InputError):
    """The request body cannot be parsed as what it claims to be (e.g. a broken multipart form)."""


class BackendUnavailableError(MipguideError):
    """A solver backend is missing, or cannot take this kind of problem."""


class SolverError(MipguideError):
    """A solver backend failed while solving."""
