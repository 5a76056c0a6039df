"""The ``mipguide`` command: solve, doctor, bench, and the service commands.

Exit codes: 0 solved (any status), 2 bad input (with the message), 1 internal error.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer
from rich.console import Console

from service.commands import bench_api, remote
from service.commands.serve import serve
from service.errors import InputError, InvalidOptionError, MipguideError
from service.pipeline.pas_params import PAS_PARAM_NAMES
from service.settings import get_settings

if TYPE_CHECKING:
    from instances.registry import Family, Size

app = typer.Typer(
    no_args_is_help=True, add_completion=False, help="mipguide: MILP solving with ML guidance"
)
bench_app = typer.Typer(no_args_is_help=True, help="Benchmarks that print tables and write plots.")
app.add_typer(bench_app, name="bench")

# the service: server, client commands, API benchmark (logic in service/commands/)
app.command("serve")(serve)
app.command("submit")(remote.submit)
app.command("jobs")(remote.jobs)
app.command("cancel")(remote.cancel)
bench_app.command("api")(bench_api.bench_api)

console = Console(highlight=False)
err_console = Console(stderr=True, highlight=False)


def fail(exc: Exception) -> typer.Exit:
    """Print an error and choose the exit code: 2 for bad input, 1 otherwise."""
    if isinstance(exc, InputError):
        err_console.print(f"[red]error:[/] {exc}", soft_wrap=True)
        return typer.Exit(2)
    if isinstance(exc, MipguideError):
        err_console.print(f"[red]error:[/] {exc}", soft_wrap=True)
        return typer.Exit(1)
    err_console.print(f"[red]internal error:[/] {type(exc).__name__}: {exc}", soft_wrap=True)
    return typer.Exit(1)


@app.command()
def solve(
    file: Annotated[Path, typer.Argument(help="MPS (.mps, .mps.gz, .mps.bz2), LP or JSON model")],
    solver: Annotated[
        str, typer.Option(help="scip | cpsat | highs | ortools-highs | glop | pdlp | ortools-scip")
    ] = "",
    time_limit: Annotated[float | None, typer.Option(help="seconds")] = None,
    gap: Annotated[float | None, typer.Option(help="relative gap to stop at")] = None,
    abs_gap: Annotated[float | None, typer.Option(help="absolute gap to stop at")] = None,
    threads: Annotated[int, typer.Option(min=1)] = 1,
    seed: Annotated[int, typer.Option()] = 0,
    node_limit: Annotated[int | None, typer.Option(min=1)] = None,
    presolve: Annotated[bool, typer.Option(help="run the solver's presolve")] = True,
    param: Annotated[list[str], typer.Option(help="backend parameter KEY=VALUE (repeat)")] = [],  # noqa: B006
    unsafe_params: Annotated[
        bool,
        typer.Option(
            "--unsafe-params",
            help="local use only: also accept backend parameters that name files or steer "
            "logs and output (the server never does)",
        ),
    ] = False,
    out: Annotated[Path | None, typer.Option(help="write the JSON result here")] = None,
    dmmv: Annotated[
        bool, typer.Option("--dmmv", help="pure-integer: DMMV feasibility search first (a start)")
    ] = False,
    dmmv_seconds: Annotated[
        float, typer.Option(min=0.0, help="seconds for the DMMV search (with --dmmv)")
    ] = 2.0,
    mode: Annotated[
        str,
        typer.Option(
            help="exact | pas (predict-and-search) | auto (pas when a model fits) | srg "
            "(Lagrangian-guided score-based sampling)"
        ),
    ] = "exact",
    model: Annotated[
        str | None, typer.Option(help="NAME@VERSION for pas/auto/srg (default: the best match)")
    ] = None,
    pas: Annotated[
        list[str],
        typer.Option(help=f"PaS parameter KEY=VALUE: {', '.join(PAS_PARAM_NAMES)}"),
    ] = [],  # noqa: B006
    srg: Annotated[
        list[str],
        typer.Option(help="SRG parameter KEY=VALUE: k, steps, eta, rho, guidance, region, ..."),
    ] = [],  # noqa: B006
) -> None:
    """Solve one model with one backend; print a summary and write the verified JSON result.

    ``--mode pas`` predicts the binaries with a PaS model, solves a trust-region subproblem,
    then completes on the full model with the best solution as warm start. ``--mode srg``
    samples K candidates with an SRG score model instead and builds the region from their
    consensus.
    """
    from service.commands.solve import Guidance, parse_params, run_solve
    from service.solvers.types import SolveOptions

    settings = get_settings()
    try:
        if not file.exists():
            raise InputError(f"{file}: no such file")
        guidance = Guidance(
            mode=mode,
            model=model,
            pas=parse_params(pas, "--pas"),
            srg=parse_params(srg, "--srg"),
            model_dir=settings.model_dir,
            device=settings.device,
        )
        options = SolveOptions(
            time_limit=time_limit,
            rel_gap=gap,
            abs_gap=abs_gap,
            threads=threads,
            seed=seed,
            node_limit=node_limit,
            presolve=presolve,
            params=parse_params(param),
            unsafe_params=unsafe_params,
        )
        run_solve(
            file,
            solver or settings.default_solver,
            options,
            out,
            console,
            guidance,
            dmmv_seconds=dmmv_seconds if dmmv else None,
        )
    except Exception as exc:
        raise fail(exc) from exc


@app.command()
def doctor() -> None:
    """Print versions, devices and which solver backends work here."""
    from service.commands.doctor import run_doctor

    run_doctor(get_settings(), console)


@app.command()
def generate(
    family: Annotated[str, typer.Argument(help="setcover | cauction | indset | facility")],
    size: Annotated[str, typer.Option(help="easy | medium | hard")] = "easy",
    seeds: Annotated[str, typer.Option(help="A-B (inclusive), A, or A,B,C")] = "0-9",
    out: Annotated[Path, typer.Option(help="output directory")] = Path("instances-out"),
    gz: Annotated[bool, typer.Option(help="write .mps.gz")] = False,
) -> None:
    """Write benchmark instances as MPS files (deterministic in the seed)."""
    from service.commands.generate import run_generate

    try:
        fam, sz, seed_list = _family_size_seeds(family, size, seeds)
        run_generate(fam, sz, seed_list, out, console, gz=gz)
    except Exception as exc:
        raise fail(exc) from exc


def _family_size_seeds(family: str, size: str, seeds: str) -> tuple[Family, Size, list[int]]:
    """Validate CLI spellings of family, size and a seed range (InputError when wrong)."""
    from instances.registry import Family, Size, parse_seeds

    if family not in {f.value for f in Family}:
        raise InvalidOptionError("family", f"unknown family {family!r}", [f.value for f in Family])
    if size not in {s.value for s in Size}:
        raise InvalidOptionError("--size", f"unknown size {size!r}", [s.value for s in Size])
    try:
        return Family(family), Size(size), parse_seeds(seeds)
    except ValueError as exc:
        raise InvalidOptionError("--seeds", str(exc)) from exc


@app.command()
def train(
    family: Annotated[
        str, typer.Option(help="setcover | cauction | indset | facility, a comma list, or all")
    ],
    out: Annotated[Path, typer.Option(help="registry directory .../NAME@VERSION")],
    size: Annotated[str, typer.Option(help="easy | medium | hard")] = "easy",
    train_seeds: Annotated[str, typer.Option(help="A-B")] = "0-99",
    val_seeds: Annotated[str, typer.Option(help="C-D")] = "1000-1019",
    epochs: Annotated[int, typer.Option(min=1)] = 30,
    seed: Annotated[int, typer.Option()] = 0,
    lr: Annotated[float, typer.Option()] = 1e-3,
    batch_size: Annotated[int, typer.Option(min=1)] = 4,
    patience: Annotated[int, typer.Option(min=1)] = 5,
    pool_k: Annotated[int, typer.Option(min=1, help="solutions kept per instance")] = 32,
    pool_time: Annotated[float, typer.Option(help="SCIP seconds per instance")] = 10.0,
    pool_dir: Annotated[
        Path | None,
        typer.Option(
            help="pool cache (default DATA_DIR/pools/FAMILY-SIZE; with several "
            "families: POOL_DIR/FAMILY-SIZE)"
        ),
    ] = None,
    workers: Annotated[int, typer.Option(min=0, help="processes for the pools (0: all cores)")] = 0,
    pas: Annotated[
        list[str], typer.Option(help="recommended PaS parameter KEY=VALUE for the card (repeat)")
    ] = [],  # noqa: B006
    kind: Annotated[str, typer.Option(help="pas (predictor) | srg (score network)")] = "pas",
    srg: Annotated[
        list[str], typer.Option(help="recommended SRG parameter KEY=VALUE for the card (repeat)")
    ] = [],  # noqa: B006
    hidden: Annotated[int, typer.Option(min=1, help="kind srg: hidden width")] = 32,
    coupling: Annotated[
        str, typer.Option(help="kind srg: graph (message passing) | none (per variable)")
    ] = "graph",
    samples: Annotated[
        int, typer.Option(min=1, help="kind srg: noised pool solutions per instance and step")
    ] = 8,
    label_temperature: Annotated[
        float,
        typer.Option(
            help="label temperature as a fraction of each pool's objective spread (smaller: "
            "labels dominated by the best solutions)",
        ),
    ] = 0.2,
) -> None:
    """Train a PaS model (or, with --kind srg, an SRG score network) on solution pools of
    generated instances and register it.

    Several families (a comma list or ``all``) train one model on their mix; pools are cached
    per family, so a mix reuses the pools of the single-family models (and SRG those of PaS).
    """
    import sys

    from models.pools import PoolConfig
    from models.train import TrainConfig
    from service.commands.solve import parse_params
    from service.commands.train import run_train
    from service.pipeline.pas_params import PasParams

    settings = get_settings()
    try:
        if not 0 < label_temperature < float("inf"):
            raise InvalidOptionError("--label-temperature", "must be a positive number")
        recommended = parse_params(pas, "--pas")
        try:
            PasParams.from_mapping(recommended)
        except (TypeError, ValueError) as exc:
            raise InvalidOptionError("--pas", str(exc)) from exc
        srg_model, srg_params = _srg_training(kind, srg, hidden, coupling)
        names = _family_list(family)
        fams = [_family_size_seeds(f, size, train_seeds)[0] for f in names]
        _, sz, train_list = _family_size_seeds(names[0], size, train_seeds)
        _, _, val_list = _family_size_seeds(names[0], size, val_seeds)
        root = pool_dir or settings.data_dir / "pools"
        several = len(fams) > 1 or pool_dir is None
        pools = {f: root / f"{f.value}-{sz.value}" if several else root for f in fams}
        run_train(
            fams,
            sz,
            train_list,
            val_list,
            out,
            pools,
            PoolConfig(k=pool_k, time_limit=pool_time, seed=seed),
            TrainConfig(
                epochs=epochs,
                lr=lr,
                batch_size=batch_size,
                patience=patience,
                seed=seed,
                temperature_fraction=label_temperature,
            ),
            workers or os.cpu_count() or 1,
            settings.device,
            console,
            command="mipguide " + " ".join(sys.argv[1:]),
            pas=recommended,
            kind=kind,
            srg=srg_params,
            srg_model=srg_model,
            samples=samples,
        )
    except Exception as exc:
        raise fail(exc) from exc


def _srg_training(kind: str, srg: list[str], hidden: int, coupling: str) -> tuple[Any, dict]:
    """Validate ``--kind``, ``--srg``, ``--coupling``: (SrgConfig or None, SRG card params)."""
    from models.srg import SrgConfig
    from service.commands.solve import parse_params
    from service.pipeline.srg_params import SrgParams

    if kind not in ("pas", "srg"):
        raise InvalidOptionError("--kind", f"unknown kind {kind!r}", ["pas", "srg"])
    params = parse_params(srg, "--srg")
    try:
        SrgParams.from_mapping(params)
        config = SrgConfig(hidden=hidden, coupling=coupling) if kind == "srg" else None
    except (TypeError, ValueError) as exc:
        raise InvalidOptionError("--srg" if "SRG" in str(exc) else "--coupling", str(exc)) from exc
    return config, params


def _family_list(spec: str) -> list[str]:
    """``all`` or ``a,b`` -> family names (validated later)."""
    from instances.registry import Family

    if spec == "all":
        return [f.value for f in Family]
    names = [s.strip() for s in spec.split(",") if s.strip()]
    return list(dict.fromkeys(names)) or [spec]


@bench_app.command("features")
def bench_features(
    files: Annotated[
        list[Path] | None, typer.Argument(help="model files (default: generate)")
    ] = None,
    size: Annotated[list[str], typer.Option(help="sizes to generate (repeat)")] = ["easy", "hard"],  # noqa: B006
    repeat: Annotated[int, typer.Option(min=1)] = 3,
    big: Annotated[bool, typer.Option(help="add a 1M-nonzero set cover")] = True,
) -> None:
    """Time feature building (build_graph): nnz vs seconds."""
    from instances.registry import Size
    from service.bench.features import run_bench_features

    try:
        run_bench_features(console, files or [], [Size(s) for s in size], repeat=repeat, big=big)
    except Exception as exc:
        raise fail(exc) from exc


@bench_app.command("read")
def bench_read_cmd(
    sizes: str = typer.Option("10000,100000,1000000", help="Nonzero counts, comma-separated."),
    repeat: int = typer.Option(3, min=1, help="Repetitions per reader (median is shown)."),
    out: Path | None = typer.Option(None, help="Directory for read.csv."),
) -> None:
    """Time our MPS reader against SCIP and HiGHS on generated files."""
    from service.bench.read import bench_read, print_table, write_csv

    results = bench_read(tuple(int(s) for s in sizes.split(",") if s.strip()), repeat=repeat)
    print_table(results)
    if out is not None:
        out.mkdir(parents=True, exist_ok=True)
        write_csv(results, out / "read.csv")


@bench_app.command("guided")
def bench_guided(
    files: Annotated[
        list[Path] | None, typer.Argument(help="model files (or --family ...)")
    ] = None,
    instances: Annotated[
        list[Path] | None, typer.Option(help="model file (repeat; same as the arguments)")
    ] = None,
    family: Annotated[str | None, typer.Option(help="generate: setcover | cauction | ...")] = None,
    size: Annotated[str, typer.Option(help="easy | medium | hard")] = "medium",
    seeds: Annotated[str, typer.Option(help="A-B (held-out seeds)")] = "2000-2002",
    methods: Annotated[
        str,
        typer.Option(
            help="comma list of scip, scip-aggressive, scip-pricing-q, cpsat, highs, pas, "
            "pas-highs, srg and the SRG ablations srg-noguide, srg-k1, srg-topk, srg-indep"
        ),
    ] = "scip,pas",
    time_limit: Annotated[float, typer.Option(min=0.1, help="wall seconds per run")] = 20.0,
    out: Annotated[Path, typer.Option(help="folder for CSV, markdown and PNG")] = Path(
        "bench-out/guided"
    ),
    reference: Annotated[
        Path | None, typer.Option(help="CSV instance,reference (default: best found)")
    ] = None,
    model: Annotated[str | None, typer.Option(help="PaS model (default: best match)")] = None,
    grace: Annotated[float, typer.Option(help="seconds past the budget before a kill")] = 2.0,
    solver_seed: Annotated[
        int,
        typer.Option(
            min=0,
            help="every run's random seed (SCIP's randomseedshift, the LNS and SRG draws); "
            "repeat a benchmark under other seeds to see how much single runs vary",
        ),
    ] = 0,
    pas: Annotated[
        list[str], typer.Option(help="PaS parameter KEY=VALUE for method pas (repeat)")
    ] = [],  # noqa: B006
    jobs: Annotated[int, typer.Option(min=1, help="runs at once (one thread each)")] = 1,
    resume: Annotated[
        bool, typer.Option(help="reuse runs already saved in OUT/runs (same settings)")
    ] = False,
    srg: Annotated[
        list[str],
        typer.Option(help="SRG parameter KEY=VALUE for the srg methods (repeat), e.g. k=1"),
    ] = [],  # noqa: B006
    srg_model: Annotated[
        str | None, typer.Option(help="SRG model for the srg methods (default: best match)")
    ] = None,
) -> None:
    """Primal gap, primal integral, time to first / 1%, proofs: methods under one budget."""
    from service.commands.bench_guided import parse_methods, read_references, run_bench_guided
    from service.commands.solve import parse_params

    settings = get_settings()
    try:
        paths = list(files or []) + list(instances or [])
        if family is not None:
            from service.commands.generate import run_generate

            fam, sz, seed_list = _family_size_seeds(family, size, seeds)
            paths += run_generate(fam, sz, seed_list, out / "instances", console)
        if not paths:
            raise InvalidOptionError("instances", "give model files or --family")
        for p in paths:
            if not p.exists():
                raise InputError(f"{p}: no such file")
        run_bench_guided(
            paths,
            parse_methods(methods),
            time_limit,
            out,
            console,
            references=read_references(reference) if reference else None,
            model=model,
            model_dir=settings.model_dir,
            grace=grace,
            seed=solver_seed,
            pas=parse_params(pas, "--pas"),
            jobs=jobs,
            resume=resume,
            srg=_srg_overrides(srg),
            srg_model=srg_model,
        )
    except Exception as exc:
        raise fail(exc) from exc


def _srg_overrides(pairs: list[str]) -> dict[str, Any]:
    """``--srg KEY=VALUE`` pairs, validated (InvalidOptionError naming the parameter)."""
    from service.commands.solve import parse_params
    from service.pipeline.srg_params import SrgParams

    values = parse_params(pairs, "--srg")
    try:
        SrgParams.from_mapping(values)
    except (TypeError, ValueError) as exc:
        raise InvalidOptionError("--srg", str(exc)) from exc
    return values


@app.command()
def dmmv(
    file: Annotated[
        Path, typer.Argument(help="npz: A (dense or CSR parts), l, u, levels, x0?, fixed?")
    ],
    time_limit: Annotated[float, typer.Option(help="seconds")] = 5.0,
    seed: Annotated[int, typer.Option()] = 0,
    device: Annotated[str, typer.Option(help="cpu | cuda | auto (settings)")] = "cpu",
    out: Annotated[Path | None, typer.Option(help="write the JSON result here")] = None,
    server: Annotated[
        str | None, typer.Option("--server", help="submit to this server as a DMMV job")
    ] = None,
    api_key: Annotated[str | None, typer.Option("--api-key", help="API key (--server)")] = None,
    wait: Annotated[bool, typer.Option(help="with --server: wait and print the result")] = True,
) -> None:
    """DMMV: minimize the max row violation over discrete levels; print a summary.

    Runs here, or with --server as a job on that server (the server's device settings apply).
    """
    from service.commands.dmmv import run_dmmv, run_remote
    from service.heuristics.dmmv import DmmvConfig

    try:
        settings = get_settings()
        dev = settings.device if device == "auto" else device
        dev = "cpu" if dev == "auto" else dev
        config = DmmvConfig(time_limit=time_limit, seed=seed, device=dev)
        if server is not None:
            run_remote(file, server, api_key or settings.api_key, config, wait, out, console)
        else:
            run_dmmv(file, config, out, console)
    except Exception as exc:
        raise fail(exc) from exc


@bench_app.command("srg")
def bench_srg(
    families: Annotated[
        str, typer.Option(help="setcover | cauction | indset | facility, a comma list, or all")
    ] = "all",
    size: Annotated[str, typer.Option(help="easy | medium | hard")] = "hard",
    seeds: Annotated[str, typer.Option(help="A-B (held-out seeds)")] = "2000-2002",
    timing_size: Annotated[
        str, typer.Option(help="size of the timing instances (hard: 1500 binaries)")
    ] = "hard",
    repeat: Annotated[int, typer.Option(min=1, help="timing repeats (median is shown)")] = 3,
    model: Annotated[
        str | None, typer.Option(help="SRG model for every instance (default: best match)")
    ] = None,
    srg: Annotated[
        list[str], typer.Option(help="SRG parameter KEY=VALUE (repeat), e.g. k=16 steps=20")
    ] = [],  # noqa: B006
    out: Annotated[Path, typer.Option(help="folder for CSV and PNG")] = Path("bench-out/srg"),
) -> None:
    """SRG sampler: time of K candidates on 1500 binaries (one thread), and raw-candidate
    feasibility, violation and objective with guidance vs without, per family."""
    from service.commands.bench_srg import run_bench_srg

    settings = get_settings()
    try:
        names = _family_list(families)
        fams = [_family_size_seeds(f, size, seeds)[0] for f in names]
        _, sz, seed_list = _family_size_seeds(names[0], size, seeds)
        _, tsz, _ = _family_size_seeds(names[0], timing_size, seeds)
        device = "cpu" if settings.device == "auto" else settings.device
        run_bench_srg(
            fams,
            sz,
            seed_list,
            out,
            console,
            timing_size=tsz,
            repeat=repeat,
            model=model,
            model_dir=settings.model_dir,
            device=device,
            srg=_srg_overrides(srg),
        )
    except Exception as exc:
        raise fail(exc) from exc


@bench_app.command("dmmv")
def bench_dmmv(
    budget: Annotated[float, typer.Option(help="wall seconds per method and case")] = 10.0,
    out: Annotated[Path | None, typer.Option(help="folder for CSV and PNG")] = None,
    quick: Annotated[bool, typer.Option(help="small cases, for a smoke run")] = False,
) -> None:
    """DMMV vs round-to-nearest vs the MILP (SCIP/HiGHS/CP-SAT) on FIR, quantization, tomography."""
    from service.commands.bench_dmmv import run_bench_dmmv

    run_bench_dmmv(budget, out, quick, console)


if __name__ == "__main__":
    app()
