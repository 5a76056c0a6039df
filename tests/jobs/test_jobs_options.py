"""Option validation: defaults, caps, unknown names listing the valid ones, params tables."""

from __future__ import annotations

from dataclasses import replace

import pytest

from mipguide.errors import InvalidOptionError
from mipguide.jobs.options import OPTION_NAMES, parse_options, solve_options
from mipguide.settings import Settings

SETTINGS = Settings(default_time_limit=30.0, max_time_limit=100.0, max_threads=4)


def table(_solver: str) -> dict[str, type]:
    return {"limits/nodes": int, "presolving/emphasis": str, "limits/time": float}


def test_defaults_and_cap() -> None:
    opts = parse_options({}, SETTINGS)
    assert opts.solver == SETTINGS.default_solver and opts.time_limit == 30.0
    assert parse_options({"time_limit": "5000"}, SETTINGS).time_limit == 100.0


def test_form_strings_are_coerced() -> None:
    opts = parse_options(
        {"gap": "0.01", "threads": "2", "seed": "7", "priority": "3", "tags": "a, b"}, SETTINGS
    )
    assert (opts.gap, opts.threads, opts.seed, opts.priority) == (0.01, 2, 7, 3)
    assert opts.tags == ["a", "b"]
    so = solve_options(opts.model_dump(), None)
    assert so.rel_gap == 0.01 and so.threads == 2 and so.seed == 7 and so.time_limit == 30.0


@pytest.mark.parametrize(
    ("raw", "option"),
    [
        ({"speed": "fast"}, "speed"),
        ({"solver": "nope"}, "solver"),
        ({"mode": "srg-fast"}, "mode"),
        ({"threads": "99"}, "threads"),
        ({"gap": "-1"}, "gap"),
        ({"tags": "bad tag!"}, "tags"),
        ({"params": "[1, 2]"}, "params"),
        ({"params": '{"limits/nodes": "many"}'}, "params.limits/nodes"),
        ({"params": '{"nope": 1}'}, "params.nope"),
        # non-finite numbers cannot be stored as JSON (PostgreSQL refuses them)
        ({"gap": "inf"}, "gap"),
        ({"time_limit": "nan"}, "time_limit"),
        ({"params": '{"limits/time": Infinity}'}, "params.limits/time"),
    ],
)
def test_bad_options_name_the_option(raw: dict[str, str], option: str) -> None:
    with pytest.raises(InvalidOptionError) as info:
        parse_options(raw, SETTINGS, table)
    assert info.value.option == option


def test_unknown_option_lists_valid_names() -> None:
    with pytest.raises(InvalidOptionError) as info:
        parse_options({"speed": "1"}, SETTINGS)
    assert info.value.valid == sorted(OPTION_NAMES)


def test_params_are_checked_and_coerced() -> None:
    opts = parse_options({"params": '{"limits/nodes": "10"}'}, SETTINGS, table)
    assert opts.params == {"limits/nodes": 10}


def test_dmmv_option_of_solve_jobs() -> None:
    from mipguide.jobs.options import DEFAULT_DMMV_SECONDS

    opts = parse_options({"dmmv": "true"}, SETTINGS)
    assert opts.dmmv and opts.dmmv_seconds == DEFAULT_DMMV_SECONDS
    capped = parse_options({"dmmv": True, "dmmv_seconds": 50, "time_limit": 10}, SETTINGS)
    assert capped.dmmv_seconds == 10.0
    assert parse_options({}, SETTINGS).dmmv is False
    for raw, option in (
        ({"dmmv": "maybe"}, "dmmv"),
        ({"dmmv": "true", "dmmv_seconds": "-1"}, "dmmv_seconds"),
        ({"dmmv_seconds": "3"}, "dmmv_seconds"),
    ):
        with pytest.raises(InvalidOptionError) as info:
            parse_options(raw, SETTINGS)
        assert info.value.option == option


def test_dmmv_job_options() -> None:
    from mipguide.jobs.options import DMMV_OPTION_NAMES, parse_dmmv_options

    opts = parse_dmmv_options({"time_limit": "5000", "seed": "4", "tags": "a,b"}, SETTINGS)
    assert (opts.time_limit, opts.seed, opts.tags) == (100.0, 4, ["a", "b"])
    assert parse_dmmv_options({}, SETTINGS).time_limit == SETTINGS.default_time_limit
    for raw, option in (({"solver": "scip"}, "solver"), ({"threads": 99}, "threads")):
        with pytest.raises(InvalidOptionError) as info:
            parse_dmmv_options(raw, SETTINGS)
        assert info.value.option == option
    with pytest.raises(InvalidOptionError) as info:
        parse_dmmv_options({"nope": 1}, SETTINGS)
    assert info.value.valid == sorted(DMMV_OPTION_NAMES)


def test_fake_solver_only_when_allowed() -> None:
    with pytest.raises(InvalidOptionError) as err:
        parse_options({"solver": "fake"}, SETTINGS)
    assert "fake" not in err.value.valid and "scip" in err.value.valid
    allowed = replace(SETTINGS, allow_fake_solver=True)
    assert parse_options({"solver": "fake"}, allowed).solver == "fake"


def test_guided_modes_are_accepted_with_model_and_pas_parameters() -> None:
    pas = '{"region": {"k0": 0.5, "delta": 0}}'
    opts = parse_options({"mode": "pas", "model": "pas-mix@1", "pas": pas}, SETTINGS)
    assert (opts.mode, opts.model) == ("pas", "pas-mix@1")
    assert opts.pas == {"region": {"k0": 0.5, "delta": 0}}
    assert parse_options({"mode": "auto"}, SETTINGS).model is None


def test_guided_modes_leave_the_backend_to_the_service_unless_named() -> None:
    for mode in ("pas", "auto", "srg"):
        assert parse_options({"mode": mode}, SETTINGS).solver == "auto"
        assert parse_options({"mode": mode, "solver": "highs"}, SETTINGS).solver == "highs"
    assert parse_options({}, SETTINGS).solver == SETTINGS.default_solver
    assert parse_options({"solver": "auto"}, SETTINGS).solver == "auto"
    # backend parameters without a solver: the default backend, whose parameters they are
    with_params = parse_options({"mode": "auto", "params": '{"limits/nodes": 5}'}, SETTINGS)
    assert with_params.solver == SETTINGS.default_solver
    for raw, option in (
        ({"solver": "auto", "params": '{"limits/nodes": 5}'}, "params"),
        ({"solver": "auto", "dmmv": "true"}, "dmmv"),
    ):
        with pytest.raises(InvalidOptionError) as info:
            parse_options(raw, SETTINGS)
        assert info.value.option == option and "not auto" in str(info.value)


@pytest.mark.parametrize(
    ("raw", "option"),
    [
        ({"mode": "pas", "model": "no-version"}, "model"),
        ({"mode": "pas", "pas": '{"region": {"k0": 2}}'}, "pas.region.k0"),
        ({"mode": "pas", "pas": '{"speed": 1}'}, "pas.speed"),
        ({"mode": "pas", "pas": '{"k0": 0.5}'}, "pas.k0"),
        ({"mode": "pas", "pas": "[1]"}, "pas"),
        ({"model": "pas-mix@1"}, "mode"),
        ({"mode": "pas", "dmmv": "true"}, "dmmv"),
    ],
)
def test_bad_guidance_options_name_the_option(raw: dict[str, str], option: str) -> None:
    with pytest.raises(InvalidOptionError) as info:
        parse_options(raw, SETTINGS)
    assert info.value.option == option


def test_mode_srg_is_accepted_with_srg_parameters() -> None:
    srg = '{"sampling": {"k": 8, "guidance": false}}'
    opts = parse_options({"mode": "srg", "model": "srg-mix@1", "srg": srg}, SETTINGS)
    assert (opts.mode, opts.model) == ("srg", "srg-mix@1")
    assert opts.srg == {"sampling": {"k": 8, "guidance": False}}
    assert parse_options({"mode": "srg"}, SETTINGS).srg == {}
    topk = parse_options({"mode": "srg", "srg": {"region": {"kind": "topk"}}}, SETTINGS)
    assert topk.srg == {"region": {"kind": "topk"}}


@pytest.mark.parametrize(
    ("raw", "option", "names"),
    [
        ({"mode": "srg", "srg": '{"sampling": {"k": 0}}'}, "srg.sampling.k", "greater than"),
        ({"mode": "srg", "srg": '{"sampling": {"steps": "many"}}'}, "srg.sampling.steps", "int"),
        ({"mode": "srg", "srg": '{"region": {"kind": "box"}}'}, "srg.region.kind", "consensus"),
        ({"mode": "srg", "srg": '{"speed": 1}'}, "srg.speed", "sampling"),
        ({"mode": "srg", "srg": "[1]"}, "srg", "JSON object"),
        ({"mode": "pas", "srg": '{"sampling": {"k": 4}}'}, "srg", "need mode srg"),
        ({"srg": '{"sampling": {"k": 4}}'}, "srg", "need mode srg"),
        ({"mode": "srg", "pas": '{"region": {"k0": 0.5}}'}, "pas", "mode pas or auto"),
    ],
)
def test_bad_srg_options_name_the_parameter(raw: dict[str, str], option: str, names: str) -> None:
    with pytest.raises(InvalidOptionError) as info:
        parse_options(raw, SETTINGS)
    assert info.value.option == option and names in str(info.value)
