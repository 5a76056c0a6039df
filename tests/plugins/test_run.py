"""``mipguide.plugins.run``: the options, checked in one place with their names; one exported
file solved here and on a server to the same verified result."""

from __future__ import annotations

import pytest

from mipguide.client import ApiError
from mipguide.errors import InvalidOptionError
from mipguide.interop import Exported, Layer
from mipguide.plugins.run import OPTION_NAMES, RunOptions, solve_exported
from mipguide.solvers.types import Status
from tests.api.serverutil import KEY_A, Server

LP = b"max\n obj: 3 x + 2 y\nst\n c: x + y <= 4\nbounds\n x <= 3\n y <= 5\ngeneral\n x y\nend\n"
EXPORTED = Exported(Layer.PULP, "small.lp", LP, {}, None)


def test_options_are_coerced_and_the_server_gets_only_its_own() -> None:
    run = RunOptions.of({"time_limit": "5", "threads": 2.0, "gap": None, "params": {"a": 1}})
    assert (run.time_limit, run.threads, run.gap) == (5.0, 2, None)
    assert run.form() == {
        "solver": None,
        "mode": "exact",
        "model": None,
        "time_limit": 5.0,
        "gap": None,
        "threads": 2,
        "seed": None,
        "params": {"a": 1},
    }
    assert "params" not in RunOptions().form()


@pytest.mark.parametrize(
    ("options", "needle"),
    [
        ({"timeLimit": 3}, "timeLimit: unknown option (valid: api_key, gap, mode"),
        ({"time_limit": 0}, "time_limit: must be a positive number"),
        ({"time_limit": "soon"}, "time_limit: must be a float"),
        ({"wait": -1}, "wait: must be a positive number"),
        ({"gap": -0.1}, "gap: must be a number >= 0"),
        ({"threads": 0}, "threads: must be at least 1"),
        ({"seed": -1}, "seed: must be >= 0"),
        ({"server": 8000}, "server: must be a string"),
    ],
)
def test_bad_options_are_named(options: dict[str, object], needle: str) -> None:
    with pytest.raises(InvalidOptionError) as err:
        RunOptions.of(options)
    assert needle in str(err.value)
    assert set(OPTION_NAMES) >= {"server", "api_key", "solver", "mode", "time_limit", "wait"}


def test_here_and_on_a_server_give_the_same_verified_result(server: Server) -> None:
    here = solve_exported(EXPORTED, RunOptions(solver="highs"))
    there = solve_exported(EXPORTED, RunOptions(server=server.url, api_key=KEY_A, solver="highs"))
    for result in (here, there):
        assert result.status == Status.OPTIMAL and result.solver == "highs"
        assert result.objective == 11 and result.values == {"x": 3, "y": 1}


def test_local_option_errors_name_the_option_and_the_server_refuses_a_bad_file(
    server: Server,
) -> None:
    with pytest.raises(InvalidOptionError, match="solver: unknown solver 'cbc'"):
        solve_exported(EXPORTED, RunOptions(solver="cbc"))
    with pytest.raises(InvalidOptionError, match="mode"):
        solve_exported(EXPORTED, RunOptions(mode="fast"))
    broken = Exported(Layer.PULP, "broken.lp", b"max\n obj: 3 x +\nst\nend\n", {}, None)
    with pytest.raises(ApiError) as err:
        solve_exported(broken, RunOptions(server=server.url, api_key=KEY_A))
    assert err.value.status == 422
