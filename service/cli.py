"""The ``mipguide`` command: wiring only. Each command declares its arguments and calls its
module under ``service/commands`` (or ``service/bench``), imported when the command runs.

Exit codes: 0 solved (any status), 2 bad input (with the message), 1 internal error.
"""

from __future__ import annotations

from collections.abc import Callable
from enum import StrEnum
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.markup import escape

from mipguide.commands import remote
from mipguide.commands.extra import missing_extra, needs_server_extra
from mipguide.commands.serve import serve
from mipguide.errors import InputError, MipguideError

app = typer.Typer(
    no_args_is_help=True, add_completion=False, help="mipguide: MILP solving with ML guidance"
)
bench_app = typer.Typer(no_args_is_help=True, help="Benchmarks that print tables and write plots.")
app.add_typer(bench_app, name="bench")
app.command("serve")(serve)
app.command("submit")(remote.submit)
app.command("jobs")(remote.jobs)
app.command("cancel")(remote.cancel)
app.command("status")(remote.status)
app.command("result")(remote.result)
app.command("log")(remote.log)
app.command("watch")(remote.watch)

console = Console(highlight=False)
err_console = Console(stderr=True, highlight=False)
Pairs = list[str]  # repeated KEY=VALUE options

# the long options of ``solve``
UnsafeParams = Annotated[
    bool,
    typer.Option(
        "--unsafe-params",
        help="local use only: also accept backend parameters that name files or steer "
        "logs and output (the server never does)",
    ),
]
DmmvFlag = Annotated[
    bool, typer.Option("--dmmv", help="pure-integer: DMMV feasibility search first (a start)")
]
DmmvSeconds = Annotated[
    float, typer.Option(min=0.0, help="seconds for the DMMV search (with --dmmv)")
]
ModeOption = Annotated[
    str,
    typer.Option(
        help="exact | pas (predict-and-search) | auto (pas when a model fits) | srg "
        "(Lagrangian-guided score-based sampling)"
    ),
]
ModelOption = Annotated[
    str | None, typer.Option(help="NAME@VERSION for pas/auto/srg (default: the best match)")
]
PasOption = Annotated[
    Pairs, typer.Option(help="PaS parameter PATH=VALUE (repeat), e.g. region.k0=0.5")
]
SrgOption = Annotated[
    Pairs, typer.Option(help="SRG parameter PATH=VALUE (repeat), e.g. sampling.k=8")
]


def fail(exc: Exception) -> typer.Exit:
    """Print an error and choose the exit code: 2 for bad input, 1 otherwise."""
    missing = missing_extra(exc)
    if missing is not None:
        err_console.print(f"[red]error:[/] {escape(needs_server_extra(missing))}", soft_wrap=True)
        return typer.Exit(1)
    if isinstance(exc, InputError):
        err_console.print(f"[red]error:[/] {escape(str(exc))}", soft_wrap=True)
        return typer.Exit(2)
    if isinstance(exc, MipguideError):
        err_console.print(f"[red]error:[/] {escape(str(exc))}", soft_wrap=True)
        return typer.Exit(1)
    err_console.print(
        f"[red]internal error:[/] {type(exc).__name__}: {escape(str(exc))}", soft_wrap=True
    )
    return typer.Exit(1)


def run(command: Callable[[], Any]) -> None:
    """Run a command body; errors become messages and exit codes (``fail``)."""
    try:
        command()
    except typer.Exit:
        raise
    except Exception as exc:
        raise fail(exc) from exc


@app.command()
def solve(
    file: Annotated[Path, typer.Argument(help="MPS (.mps, .mps.gz, .mps.bz2), LP or JSON model")],
    solver: Annotated[
        str,
        typer.Option(
            help="auto | scip | cpsat | highs | ortools-highs | glop | pdlp | ortools-scip "
            "(default: auto in the guided modes, the settings' default_solver in exact)"
        ),
    ] = "",
    time_limit: Annotated[float | None, typer.Option(help="seconds")] = None,
    gap: Annotated[float | None, typer.Option(help="relative gap to stop at")] = None,
    abs_gap: Annotated[float | None, typer.Option(help="absolute gap to stop at")] = None,
    threads: Annotated[int, typer.Option(min=1)] = 1,
    seed: Annotated[int, typer.Option()] = 0,
    node_limit: Annotated[int | None, typer.Option(min=1)] = None,
    presolve: Annotated[bool, typer.Option(help="run the solver's presolve")] = True,
    param: Annotated[Pairs, typer.Option(help="backend parameter KEY=VALUE (repeat)")] = [],  # noqa: B006
    unsafe_params: UnsafeParams = False,
    out: Annotated[Path | None, typer.Option(help="write the JSON result here")] = None,
    dmmv: DmmvFlag = False,
    dmmv_seconds: DmmvSeconds = 2.0,
    mode: ModeOption = "exact",
    model: ModelOption = None,
    pas: PasOption = [],  # noqa: B006
    srg: SrgOption = [],  # noqa: B006
) -> None:
    """Solve one model with one backend; print a summary and write the verified JSON result.

    ``--mode pas`` predicts the binaries with a PaS model, solves a trust-region subproblem,
    then completes on the full model with the best solution as warm start. ``--mode srg``
    samples K candidates with an SRG score model instead and builds the region from their
    consensus. Parameters: docs/pas.md and docs/srg.md.
    """
    from mipguide.commands.solve import solve_command
    from mipguide.solvers.types import SolveOptions

    options = SolveOptions(
        time_limit=time_limit,
        rel_gap=gap,
        abs_gap=abs_gap,
        threads=threads,
        seed=seed,
        node_limit=node_limit,
        presolve=presolve,
        unsafe_params=unsafe_params,
    )
    run(
        lambda: solve_command(
            file,
            solver,
            options,
            param,
            out,
            console,
            mode=mode,
            model=model,
            pas=pas,
            srg=srg,
            dmmv_seconds=dmmv_seconds if dmmv else None,
        )
    )


@app.command()
def doctor() -> None:
    """Print versions, devices and which solver backends work here."""
    from mipguide.commands.doctor import run_doctor
    from mipguide.settings import get_settings

    run(lambda: run_doctor(get_settings(), console))


@app.command()
def generate(
    family: Annotated[
        str,
        typer.Argument(
            help="setcover | cauction | indset | facility | vertexcover | gisp | binpacking | "
            "loadbalance | lotsizing"
        ),
    ],
    size: Annotated[str, typer.Option(help="easy | medium | hard")] = "easy",
    seeds: Annotated[str, typer.Option(help="A-B (inclusive), A, or A,B,C")] = "0-9",
    out: Annotated[Path, typer.Option(help="output directory")] = Path("instances-out"),
    gz: Annotated[bool, typer.Option(help="write .mps.gz")] = False,
) -> None:
    """Write benchmark instances as MPS files (deterministic in the seed)."""
    from mipguide.commands.generate import generate_command

    run(lambda: generate_command(family, size, seeds, out, gz, console))


@app.command()
def train(
    out: Annotated[
        Path,
        typer.Option(help="DIR/NAME@VERSION, or NAME@VERSION for your registry (DATA_DIR/models)"),
    ],
    paths: Annotated[
        list[str] | None,
        typer.Argument(help="your instances: model files, folders or globs (or --family)"),
    ] = None,
    family: Annotated[
        str | None,
        typer.Option(
            help="generated: a family (see generate), a comma list, or all (the four protocol "
            "families)"
        ),
    ] = None,
    instances: Annotated[
        list[str] | None, typer.Option(help="your instances: a file, folder or glob (repeat)")
    ] = None,
    val_share: Annotated[
        float, typer.Option(help="share of your instances held out for validation (seeded)")
    ] = 0.2,
    size: Annotated[str, typer.Option(help="easy | medium | hard")] = "easy",
    train_seeds: Annotated[str, typer.Option(help="A-B")] = "0-99",
    val_seeds: Annotated[str, typer.Option(help="C-D")] = "1000-1019",
    epochs: Annotated[int, typer.Option(min=1, help="at most; early stopping ends sooner")] = 300,
    seed: Annotated[int, typer.Option()] = 0,
    lr: Annotated[float, typer.Option()] = 1e-3,
    batch_size: Annotated[int, typer.Option(min=1)] = 4,
    patience: Annotated[
        int, typer.Option(min=1, help="epochs without a better validation loss before it stops")
    ] = 15,
    pool_k: Annotated[int, typer.Option(min=1, help="solutions kept per instance")] = 32,
    pool_time: Annotated[float, typer.Option(help="solver seconds per instance")] = 10.0,
    pool_solver: Annotated[
        str,
        typer.Option(help="auto (the plain selector's backend for the instances) | scip | highs"),
    ] = "auto",
    pool_dir: Annotated[
        Path | None,
        typer.Option(help="pool cache (default DATA_DIR/pools; one FAMILY-SIZE folder each)"),
    ] = None,
    workers: Annotated[int, typer.Option(min=0, help="processes for the pools (0: all cores)")] = 0,
    pas: Annotated[Pairs, typer.Option(help="recommended PaS parameter PATH=VALUE (card)")] = [],  # noqa: B006
    kind: Annotated[str, typer.Option(help="pas (predictor) | srg (score network)")] = "pas",
    srg: Annotated[Pairs, typer.Option(help="recommended SRG parameter PATH=VALUE (card)")] = [],  # noqa: B006
    hidden: Annotated[int, typer.Option(min=1, help="kind srg: hidden width")] = 32,
    coupling: Annotated[
        str, typer.Option(help="kind srg: graph (message passing) | none (per variable)")
    ] = "graph",
    samples: Annotated[
        int, typer.Option(min=1, help="kind srg: noised pool solutions per instance and step")
    ] = 8,
    label_temperature: Annotated[
        float,
        typer.Option(help="label temperature as a fraction of each pool's objective spread"),
    ] = 0.2,
    server: Annotated[
        str | None,
        typer.Option("--server", help="train on this server (a job; the model is your key's)"),
    ] = None,
    api_key: Annotated[str | None, typer.Option("--api-key", help="API key (--server)")] = None,
    from_tag: Annotated[
        str | None,
        typer.Option(help="--server: also train on your solved jobs with this tag"),
    ] = None,
    wait: Annotated[bool, typer.Option(help="--server: follow the training to its end")] = True,
    tune_time: Annotated[
        float,
        typer.Option(help="kind pas: seconds per run of the search-settings grid (0: skip)"),
    ] = 10.0,
    tune_instances: Annotated[
        int, typer.Option(min=1, help="validation instances the grid runs on")
    ] = 3,
    tune_horizon: Annotated[
        float,
        typer.Option(
            min=1e-3,
            help="seconds the model will serve: the grid's integrals cover them, each run's "
            "last gap held past --tune-time",
        ),
    ] = 60.0,
    tune_jobs: Annotated[
        int,
        typer.Option(min=1, help="grid runs at once, each in a worker process with one thread"),
    ] = 1,
) -> None:
    """Train a PaS model (or, with --kind srg, an SRG score network) on solution pools of your
    instances (files, folders, globs: any MILP with binaries; a seeded share held out for
    validation) or of generated ones (--family; several: one model for their mix), and
    register it. mode=auto then uses it where its training instances match. With --server the
    server trains it (on the files, uploaded, and/or --from-tag: your jobs' solutions) and it
    joins your key's models there."""
    from mipguide.commands.train import TrainArgs, train_command

    files = tuple([*(paths or []), *(instances or [])])
    if server is not None:
        from mipguide.commands.train import RemoteTrain, train_remote

        remote = RemoteTrain(server, api_key, from_tag, wait)
        spec = TrainArgs(family, out, epochs=epochs, seed=seed, patience=patience,
                         pool_k=pool_k, pool_time=pool_time, kind=kind, instances=files,
                         pool_solver=pool_solver,
                         val_share=val_share, tune_time=tune_time,
                         tune_instances=tune_instances, tune_horizon=tune_horizon)  # fmt: skip
        run(lambda: train_remote(spec, remote, console))
        return
    args = TrainArgs(
        family, out, size, train_seeds, val_seeds, epochs, seed, lr, batch_size, patience,
        pool_k, pool_time, pool_dir, workers, tuple(pas), kind, tuple(srg), hidden, coupling,
        samples, label_temperature, files, val_share, tune_time, tune_instances, pool_solver,
        tune_horizon, tune_jobs,
    )  # fmt: skip
    run(lambda: train_command(args, console))


@app.command()
def tune(
    model: Annotated[str, typer.Argument(help="NAME@VERSION (registered) or DIR/NAME@VERSION")],
    paths: Annotated[
        list[str] | None,
        typer.Argument(help="validation instances: files, folders, globs (or --family)"),
    ] = None,
    family: Annotated[str | None, typer.Option(help="generated validation instances")] = None,
    size: Annotated[str, typer.Option(help="easy | medium | hard")] = "hard",
    seeds: Annotated[str, typer.Option(help="instance seeds A-B (validation seeds)")] = "1500-1502",
    time_limit: Annotated[float, typer.Option(help="seconds per run")] = 20.0,
    solver_seeds: Annotated[str, typer.Option(help="solver seeds per instance")] = "0",
    horizon: Annotated[
        float,
        typer.Option(
            help="seconds the model will serve: each run's integral covers them, its last gap "
            "held past --time-limit"
        ),
    ] = 60.0,
    jobs: Annotated[
        int,
        typer.Option(
            min=1,
            help="runs at once, each in a worker process with one thread (two cores: 2, as "
            "bench guided --jobs 2 measures)",
        ),
    ] = 1,
) -> None:
    """Choose a PaS or SRG model's search settings from the declared grid (the lowest mean
    primal integral over the instances and solver seeds, one thread, among the points whose
    final objective is no worse than the better backend alone's on 90% of the runs; the grid on
    the backend the plain selector picks for most instances, each backend alone, the grid's best
    point on the other) and write the choice, the backend, the grid and every figure into its
    card."""
    from mipguide.commands.tune import tune_command

    run(
        lambda: tune_command(
            model,
            paths or [],
            family,
            size,
            seeds,
            time_limit,
            solver_seeds,
            console,
            horizon,
            jobs,
        )
    )


@app.command("tune-plain")
def tune_plain(
    dirs: Annotated[
        list[Path], typer.Argument(help="bench guided folders of scip and highs, one per family")
    ],
    out: Annotated[
        Path | None, typer.Option(help="selector file (default: your model folder's)")
    ] = None,
    library: Annotated[
        list[Path] | None,
        typer.Option(help="bench guided folder of unrelated instances, each its own group"),
    ] = None,
) -> None:
    """Learn which plain backend solver=auto runs on an instance no model fits: a small selector
    on instance features, chosen from a declared grid by leave-one-group-out (families, and
    library instances one by one), written with its figures and data."""
    from mipguide.commands.selector import tune_plain_command

    run(lambda: tune_plain_command(dirs, out, console, library or []))


@app.command()
def models(
    ref: Annotated[str | None, typer.Argument(help="NAME@VERSION: show its card")] = None,
    kind: Annotated[str | None, typer.Option(help="pas | srg")] = None,
    server: Annotated[str | None, typer.Option("--server", help="a server's models")] = None,
    api_key: Annotated[str | None, typer.Option("--api-key", help="API key (--server)")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="the list as JSON")] = False,
    delete: Annotated[
        bool, typer.Option("--delete", help="delete REF (yours here, or your key's on --server)")
    ] = False,
) -> None:
    """The guided models: yours (DATA_DIR/models) and the shipped ones, or a server's."""
    from mipguide.commands.models import delete_command, models_command

    if delete:
        run(lambda: delete_command(ref, server, api_key, console))
        return
    run(lambda: models_command(ref, kind, server, api_key, as_json, console))


class MilpSolver(StrEnum):
    SCIP = "scip"
    HIGHS = "highs"
    BOTH = "both"


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
    hybrid: Annotated[
        bool | None,
        typer.Option(
            "--hybrid/--no-hybrid",
            help="the exact MILP beside DMMV (one more thread), the better answer; "
            "default: when the MILP is small enough",
        ),
    ] = None,
    milp_solver: Annotated[
        MilpSolver, typer.Option(help="the hybrid's MILP backend (both: one thread each)")
    ] = MilpSolver.HIGHS,
) -> None:
    """DMMV: minimize the max row violation over discrete levels; print a summary.

    Runs here, or with --server as a job on that server (the server's device settings apply).
    """
    from mipguide.commands.dmmv import dmmv_command

    run(
        lambda: dmmv_command(
            file,
            time_limit,
            seed,
            device,
            out,
            server,
            api_key,
            wait,
            console,
            hybrid,
            milp_solver.value,
        )
    )


@bench_app.command("api")
def bench_api(
    runs: Annotated[int, typer.Option(min=1, help="paired solves of p0033")] = 50,
    jobs: Annotated[int, typer.Option(min=1, help="tiny jobs for the throughput")] = 200,
    workers: Annotated[int, typer.Option(min=1, help="server workers")] = 2,
    executor: Annotated[
        str, typer.Option(help="local | ray | local,ray (one server each, same measures)")
    ] = "local",
    ray_address: Annotated[
        str | None, typer.Option(help="executor ray: a running cluster (default: start one)")
    ] = None,
    db_url: Annotated[
        str | None,
        typer.Option(help="a PostgreSQL URL: also the event latency between two replicas"),
    ] = None,
) -> None:
    """In-process solve vs HTTP ?wait solve of p0033 (overhead), throughput of tiny jobs and
    cancel latency, per executor; with --db-url, job events' latency between replicas."""
    from mipguide.bench.api import run_bench_api
    from mipguide.errors import InvalidOptionError
    from mipguide.settings import EXECUTORS

    def go() -> None:
        executors = tuple(e.strip() for e in executor.split(",") if e.strip())
        for e in executors or ("",):
            if e not in EXECUTORS:
                raise InvalidOptionError("executor", f"unknown executor {e!r}", EXECUTORS)
        run_bench_api(
            runs,
            jobs,
            workers,
            console,
            executors=executors,
            ray_address=ray_address,
            db_url=db_url,
        )

    run(go)


@bench_app.command("cli")
def bench_cli(
    runs: Annotated[int, typer.Option(min=1, help="cold calls per case (median)")] = 10,
) -> None:
    """Wall time of a cold ``mipguide solve`` of a tiny MILP and LP against a bare script."""
    from mipguide.bench.cli import run_bench_cli

    run(lambda: run_bench_cli(runs, console))


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
    from mipguide.bench.features import run_bench_features

    run(lambda: run_bench_features(console, files or [], size, repeat=repeat, big=big))


@bench_app.command("read")
def bench_read(
    sizes: Annotated[
        str, typer.Option(help="nonzero counts, comma-separated")
    ] = "10000,100000,1000000",
    repeat: Annotated[int, typer.Option(min=1, help="repetitions per reader (median)")] = 3,
    out: Annotated[Path | None, typer.Option(help="directory for read.csv")] = None,
) -> None:
    """Time our MPS reader against SCIP and HiGHS on generated files."""
    from mipguide.bench.read import run_bench_read

    run(lambda: run_bench_read(sizes, repeat, out))


@bench_app.command("guided")
def bench_guided(
    files: Annotated[
        list[Path] | None, typer.Argument(help="model files (or --family ...)")
    ] = None,
    instances: Annotated[list[Path] | None, typer.Option(help="model file (repeat)")] = None,
    family: Annotated[str | None, typer.Option(help="generate: setcover | cauction | ...")] = None,
    size: Annotated[str, typer.Option(help="easy | medium | hard")] = "medium",
    seeds: Annotated[str, typer.Option(help="A-B (held-out seeds)")] = "2000-2002",
    methods: Annotated[
        str,
        typer.Option(
            help="comma list of scip, scip-aggressive, scip-pricing-q, cpsat, highs, select "
            "(solver=auto: the plain backend the learned selector picks), probe (the plain "
            "backend chosen by probing), auto (mode=auto), pas (the "
            "card's backend), pas-scip, pas-highs, the PaS ablations pas-lp (LP relaxation as "
            "the prediction) and lns (no prediction), srg (the card's backend), srg-scip, "
            "srg-highs, the SRG ablations srg-noguide, srg-k1, srg-topk, srg-indep"
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
        int, typer.Option(min=0, help="every run's random seed (solver, LNS and SRG draws)")
    ] = 0,
    pas: Annotated[Pairs, typer.Option(help="PaS parameter PATH=VALUE for method pas")] = [],  # noqa: B006
    jobs: Annotated[int, typer.Option(min=1, help="runs at once (one thread each)")] = 1,
    resume: Annotated[
        bool, typer.Option(help="reuse runs already saved in OUT/runs (same settings)")
    ] = False,
    srg: Annotated[Pairs, typer.Option(help="SRG parameter PATH=VALUE for the srg methods")] = [],  # noqa: B006
    srg_model: Annotated[
        str | None, typer.Option(help="SRG model for the srg methods (default: best match)")
    ] = None,
) -> None:
    """Primal gap, primal integral, time to first / 1%, proofs: methods under one budget."""
    from mipguide.bench.guided import GuidedArgs, bench_guided_command

    args = GuidedArgs(
        tuple(files or []) + tuple(instances or []), family, size, seeds, methods, time_limit,
        out, reference, model, grace, solver_seed, tuple(pas), jobs, resume, tuple(srg),
        srg_model,
    )  # fmt: skip
    run(lambda: bench_guided_command(args, console))


@bench_app.command("labels")
def bench_labels(
    model: Annotated[str, typer.Argument(help="PaS model: NAME@VERSION or DIR/NAME@VERSION")],
    files: Annotated[
        list[str] | None, typer.Argument(help="model files, folders or globs (or --family)")
    ] = None,
    family: Annotated[str | None, typer.Option(help="generate: a family or a comma list")] = None,
    size: Annotated[str, typer.Option(help="easy | medium | hard")] = "medium",
    seeds: Annotated[str, typer.Option(help="A-B")] = "1000-1004",
    pool_time: Annotated[float, typer.Option(help="solver seconds per instance")] = 10.0,
    pool_solver: Annotated[str, typer.Option(help="scip | highs")] = "scip",
    pool_dir: Annotated[
        Path | None, typer.Option(help="pool cache (default: DATA_DIR/pools/labels-...)")
    ] = None,
    workers: Annotated[int, typer.Option(min=1, help="pool runs at once")] = 1,
    out: Annotated[Path, typer.Option(help="folder for CSV and markdown")] = Path(
        "bench-out/labels"
    ),
) -> None:
    """A PaS network's loss and accuracy on labelled instances against a constant P(x = 1)."""
    from mipguide.bench.labels import LabelsArgs, labels_command

    args = LabelsArgs(
        model, tuple(files or []), family, size, seeds, pool_time, pool_solver, pool_dir,
        workers, out,
    )  # fmt: skip
    run(lambda: labels_command(args, console))


@bench_app.command("summarize")
def bench_summarize(
    runs: Annotated[list[Path], typer.Argument(help="bench guided output folders")],
    out: Annotated[Path | None, typer.Option(help="write summary.md and gap.png here")] = None,
) -> None:
    """The protocol table over several bench guided runs (families, solver seeds)."""
    from mipguide.bench.summary import summarize_command

    run(lambda: summarize_command(runs, out))


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
    srg: Annotated[Pairs, typer.Option(help="SRG parameter PATH=VALUE, e.g. sampling.k=16")] = [],  # noqa: B006
    out: Annotated[Path, typer.Option(help="folder for CSV and PNG")] = Path("bench-out/srg"),
    tune: Annotated[
        str | None,
        typer.Option(
            help="a guidance parameter's grid PATH=V1,V2,... (on validation seeds), e.g. "
            "sampling.aggregate_rho=1,0.5,0.2: the guided candidates once per value, the "
            "value with the best raw candidates chosen (tune.csv)"
        ),
    ] = None,
) -> None:
    """SRG sampler: time of K candidates on 1500 binaries (one thread), and raw-candidate
    feasibility, violation and objective with guidance vs without, per family."""
    from mipguide.bench.srg import bench_srg_command

    run(
        lambda: bench_srg_command(
            families, size, seeds, timing_size, repeat, model, srg, out, console, tune
        )
    )


@bench_app.command("device")
def bench_device(
    repeat: Annotated[int, typer.Option(min=1, help="timed runs per row (median shown)")] = 5,
    dmmv_iterations: Annotated[int, typer.Option(min=1, help="DMMV passes per run")] = 300,
    batch: Annotated[int, typer.Option(min=1, max=4096, help="instances in the DMMV batch")] = 64,
    batch_iterations: Annotated[int, typer.Option(min=1, help="DMMV passes of the batch")] = 50,
    out: Annotated[Path, typer.Option(help="folder for CSV and PNG")] = Path("bench-out/device"),
) -> None:
    """The tensor paths (DMMV search and batch, SRG sampling, PaS inference) on the CPU with one
    thread, with every core, and on CUDA where present: the same work on each."""
    from mipguide.bench.device import run_bench_device
    from mipguide.settings import get_settings

    model_dir = get_settings().model_dir
    run(
        lambda: run_bench_device(
            model_dir,
            out,
            console,
            repeat=repeat,
            dmmv_iterations=dmmv_iterations,
            batch=batch,
            batch_iterations=batch_iterations,
        )
    )


@bench_app.command("pool")
def bench_pool(
    requests: Annotated[
        int, typer.Option(min=1, max=64, help="graphs sent to the pool at once")
    ] = 8,
    repeat: Annotated[int, typer.Option(min=1, help="timed runs per row (median shown)")] = 5,
    out: Annotated[Path, typer.Option(help="folder for CSV and PNG")] = Path("bench-out/pool"),
) -> None:
    """The server's device pool: PaS and SRG inference in process vs through the pool's socket
    (one request: the hop's price; several at once: the batching's gain)."""
    from mipguide.bench.pool import run_bench_pool
    from mipguide.settings import get_settings

    model_dir = get_settings().model_dir
    run(lambda: run_bench_pool(model_dir, out, console, requests=requests, repeat=repeat))


@bench_app.command("dmmv")
def bench_dmmv(
    budget: Annotated[float, typer.Option(help="wall seconds per method and instance")] = 10.0,
    seeds: Annotated[
        str, typer.Option(help="A-B: tomography phantoms and quantization draws")
    ] = "0-1",
    families: Annotated[
        str, typer.Option(help="tomo, fir, quant: a comma list")
    ] = "tomo,fir,quant",
    hybrid_solver: Annotated[str, typer.Option(help="the hybrid's MILP: scip | highs")] = "highs",
    out: Annotated[Path | None, typer.Option(help="folder for CSV and PNG")] = None,
    quick: Annotated[bool, typer.Option(help="small cases, for a smoke run")] = False,
    tune: Annotated[
        list[str] | None,
        typer.Option(
            help="FIELD=V1,V2,...: choose a DMMV parameter, or the hybrid's solver, follow "
            "(0, 1), polish, polish_on (milp, stalled) or switch, on these seeds instead; "
            "repeat it for a grid of combinations"
        ),
    ] = None,
    only: Annotated[
        str | None, typer.Option(help="methods to run: a comma list of dmmv, hybrid, scip, highs")
    ] = None,
    solver_seed: Annotated[
        int, typer.Option(min=0, help="random seed of DMMV's search and of the MILP backends")
    ] = 0,
) -> None:
    """DMMV and the hybrid vs the min-max MILP (SCIP, HiGHS) at equal budgets, per group of
    tomography, FIR and quantization instances; batch throughput (CUDA rows where present)."""
    from mipguide.bench.dmmv import run_bench_dmmv
    from mipguide.errors import InvalidOptionError
    from mipguide.instances.registry import parse_seeds

    def go() -> None:
        fams = {f.strip() for f in families.split(",") if f.strip()}
        if not fams or not fams <= {"tomo", "fir", "quant"}:
            raise InvalidOptionError(
                "--families", f"unknown {families!r}", ["tomo", "fir", "quant"]
            )
        if hybrid_solver not in ("scip", "highs"):
            raise InvalidOptionError(
                "--hybrid-solver", f"unknown {hybrid_solver!r}", ["scip", "highs"]
            )
        try:
            seed_list = parse_seeds(seeds)
        except ValueError as exc:
            raise InvalidOptionError("--seeds", str(exc)) from exc
        if tune:
            from mipguide.bench.dmmv import parse_grid, tune_dmmv

            try:
                grid = parse_grid(tune)
            except ValueError as exc:
                raise InvalidOptionError("--tune", str(exc)) from exc
            tune_dmmv(grid, budget, seed_list, fams, console, quick, out)
            return
        chosen = None
        if only is not None:
            chosen = {m.strip() for m in only.split(",") if m.strip()}
            names = ["dmmv", "hybrid", "scip", "highs"]
            if not chosen or not chosen <= set(names):
                raise InvalidOptionError("--only", f"unknown {only!r}", names)
        run_bench_dmmv(
            budget,
            out,
            quick,
            console,
            seeds=seed_list,
            families=fams,
            hybrid_solver=hybrid_solver,
            only=chosen,
            solver_seed=solver_seed,
        )

    run(go)


def main() -> None:
    """The console script. A top-level command builds only itself: typer reads the signature of
    every registered command when it builds the app, 45 ms that a cold ``mipguide solve``
    would otherwise pay. Help, ``bench`` and unknown names go to the whole app."""
    import sys

    from mipguide.gpu.allocator import keep_freed_memory

    keep_freed_memory()
    name = sys.argv[1] if len(sys.argv) > 1 else ""
    found = [c for c in app.registered_commands if c.name == name or _named(c) == name]
    if len(found) != 1:
        app()
        return
    single = typer.Typer(add_completion=False, help=app.info.help)
    single.registered_commands = found
    single.callback()(_group)  # a group of one, so the command keeps its name
    single(prog_name="mipguide")


def _named(info: Any) -> str | None:
    """A command's name as typer derives it from the function (``bench_api`` -> bench-api)."""
    callback = info.callback
    return None if callback is None else callback.__name__.replace("_", "-")


def _group() -> None:
    """mipguide: MILP solving with ML guidance"""


if __name__ == "__main__":
    main()
