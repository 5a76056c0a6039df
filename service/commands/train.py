"""`mipguide train`: the training instances (generated ones of one or more families, or the user's
own model files), their solution pools, a PaS predictor (``kind="pas"``) or an SRG score network
(``kind="srg"``) trained on them, registered."""

from __future__ import annotations

import os
import sys
from collections.abc import Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

from rich.console import Console

from mipguide.commands.args import families, pas_overrides, srg_overrides
from mipguide.errors import InputError, InvalidOptionError

if TYPE_CHECKING:
    from mipguide.client import MipguideClient
    from mipguide.instances.registry import Family, Size
    from mipguide.models.pools import InstanceSpec
    from mipguide.models.srg import SrgConfig
    from mipguide.models.train import TrainResult


@dataclass(frozen=True)
class TrainArgs:
    """The command line of ``mipguide train`` (see ``mipguide.cli.train``)."""

    family: str | None
    out: Path
    size: str = "easy"
    train_seeds: str = "0-99"
    val_seeds: str = "1000-1019"
    epochs: int = 300  # models.train.DEFAULT_EPOCHS (a test ties them)
    seed: int = 0
    lr: float = 1e-3
    batch_size: int = 4
    patience: int = 15  # models.train.DEFAULT_PATIENCE
    pool_k: int = 32
    pool_time: float = 10.0
    pool_dir: Path | None = None
    workers: int = 0
    pas: tuple[str, ...] = ()
    kind: str = "pas"
    srg: tuple[str, ...] = ()
    hidden: int = 32
    coupling: str = "graph"
    samples: int = 8
    label_temperature: float = 0.2
    instances: tuple[str, ...] = ()
    val_share: float = 0.2
    tune_time: float = 10.0
    tune_instances: int = 3
    pool_solver: str = "auto"
    tune_horizon: float = 60.0
    tune_jobs: int = 1  # local training only: the server's training runs its grid one run at a time


def train_command(args: TrainArgs, console: Console) -> None:
    """Validate the command line, then train and register one model.

    Several families (a comma list or ``all``) train one model on their mix; pools are cached
    per family (``POOL_DIR/FAMILY-SIZE``), so a mix reuses the pools of the single-family
    models, and SRG those of PaS.

    Raises:
        InvalidOptionError: the offending option.
    """
    from mipguide.models.pools import PoolConfig
    from mipguide.models.train import TrainConfig, TrainJob, train_model
    from mipguide.models.train_pas import PasObjective
    from mipguide.models.train_srg import SrgObjective
    from mipguide.settings import get_settings

    shape, recommended = _checked(args)
    settings = get_settings()
    if len(args.out.parts) == 1:  # NAME@VERSION alone: the user's registry
        args = replace(args, out=settings.model_dirs[0] / args.out)
    if args.instances:
        data = _file_instances(args, settings.data_dir / "pools")
    else:
        data = _generated_instances(args, settings.data_dir / "pools")
    objective: Any = PasObjective() if args.kind == "pas" else SrgObjective(shape, args.samples)
    pool_solver = _pool_solver(args.pool_solver, settings.model_dirs, data.train)
    console.print(f"solution pools: {pool_solver}, {args.pool_time:g} s each")
    job = TrainJob(
        objective=objective,
        family=data.label,
        train_specs=data.train,
        val_specs=data.val,
        pool_dirs=data.pool_dirs,
        out=args.out,
        pool=PoolConfig(
            k=args.pool_k, time_limit=args.pool_time, method=pool_solver, seed=args.seed
        ),
        train=TrainConfig(
            epochs=args.epochs,
            lr=args.lr,
            batch_size=args.batch_size,
            patience=args.patience,
            seed=args.seed,
            temperature_fraction=args.label_temperature,
        ),
        workers=args.workers or os.cpu_count() or 1,
        device=settings.device,
        description={**data.description, "command": "mipguide " + " ".join(sys.argv[1:])},
        recommended=recommended,
    )
    _report(train_model(job, progress=True), args, console)
    if args.pas and args.tune_time > 0:
        console.print("search settings: yours (--pas); the grid was not run")
    elif args.kind == "pas" and args.tune_time > 0:
        from mipguide.commands.tune import run_tuning

        val = [(s.name, s.build()) for s in data.val[: args.tune_instances]]
        tuning = run_tuning(
            args.out, val, args.tune_time, [args.seed], console, args.tune_horizon, args.tune_jobs
        )
        console.print(
            f"search settings: {tuning.choice!r} on {tuning.solver} (card: pas, solver, tuning)"
        )


@dataclass(frozen=True)
class RemoteTrain:
    """Where ``mipguide train --server`` sends the training, and how."""

    server: str
    api_key: str | None
    from_tag: str | None
    wait: bool


def train_remote(args: TrainArgs, remote: RemoteTrain, console: Console) -> None:
    """Submit the training to a server (the files uploaded, and/or ``from_tag``); with
    ``wait`` print its log lines as they come and exit 1 unless it completed.

    Raises:
        InvalidOptionError: a path as --out, --family, or nothing to train on.
    """
    import typer

    from mipguide.client import MipguideClient
    from mipguide.commands.remote import call
    from mipguide.problem.files import model_files

    if args.family is not None:
        raise InvalidOptionError("--family", "--server trains on files or --from-tag")
    if len(args.out.parts) != 1:
        raise InvalidOptionError("--out", "with --server: NAME@VERSION (your key's models)")
    if not args.instances and remote.from_tag is None:
        raise InvalidOptionError("--from-tag", "give instance files, --from-tag, or both")
    files = model_files(args.instances) if args.instances else []
    options: dict[str, Any] = {
        "kind": args.kind,
        "epochs": args.epochs,
        "patience": args.patience,
        "pool_time": args.pool_time,
        "pool_k": args.pool_k,
        "pool_solver": args.pool_solver,
        "val_share": args.val_share,
        "seed": args.seed,
        "tune_time": args.tune_time,
        "tune_instances": args.tune_instances,
        "tune_horizon": args.tune_horizon,
    }
    with MipguideClient(remote.server, remote.api_key or "") as client:
        job = call(lambda: client.train(str(args.out), files, from_tag=remote.from_tag, **options))
        console.print(f"{job.id}  training {args.out} on the server")
        if not remote.wait:
            return
        call(lambda: _print_log(client, job.id, console))
        job = call(lambda: client.job(job.id))
    console.print(f"{job.id}  {job.state}" + (f"  error={job.error}" if job.error else ""))
    if job.state != "completed":
        raise typer.Exit(1)


def _print_log(client: MipguideClient, job_id: str, console: Console) -> None:
    """The job's log lines as they come, until it ends."""
    for event in client.events(job_id):
        if event.kind == "log":
            console.print(event.data["line"], markup=False, highlight=False)


@dataclass(frozen=True)
class TrainingData:
    """The instances of one training run and where their pools are kept.

    Attributes:
        label: the family (``a+b`` for a mix), or the model's name for the user's files.
        description: what the card says of the data (generator and size, or the files).
    """

    label: str
    train: tuple[InstanceSpec, ...]
    val: tuple[InstanceSpec, ...]
    pool_dirs: dict[str, Path]
    description: dict[str, Any]


def generated_specs(
    fams: Sequence[Family], size: Size, seeds: Sequence[int]
) -> tuple[InstanceSpec, ...]:
    """Each family's generated instance of each seed, family-major."""
    from mipguide.instances.registry import PARAMS, instance_name
    from mipguide.models.pools import InstanceSpec

    return tuple(
        InstanceSpec(f.value, PARAMS[f][size], s, instance_name(f, size, s))
        for f in fams
        for s in seeds
    )


def file_specs(files: Sequence[Path], label: str) -> list[InstanceSpec]:
    """Model files (``problem.files.model_files``), each read and checked to have binaries.
    Each is named by the file's name and a digest of its content, so its pool file is found
    again on a rerun and an edited file gets a new one.

    Raises:
        InputError: an unreadable file, or one without binary variables.
    """
    import hashlib

    from mipguide.models.pools import InstanceSpec
    from mipguide.problem.io import read_problem

    specs = []
    for index, path in enumerate(files):
        data = path.read_bytes()
        if read_problem(data, str(path)).num_binaries == 0:
            raise InputError(
                f"{path}: no binary variables; guidance predicts binaries, so every instance "
                "needs some"
            )
        stem = path.name.split(".")[0]
        name = f"{stem}-{hashlib.sha256(data).hexdigest()[:10]}"
        specs.append(InstanceSpec(label, None, index, name, path=str(path)))
    return specs


def _generated_instances(args: TrainArgs, pools: Path) -> TrainingData:
    """Generated instances of ``--family`` (one, a comma list or all) with the given seeds."""
    spec = args.family or ""
    fams, size, train_seeds = families(spec, args.size, args.train_seeds)
    _, _, val_seeds = families(spec, args.size, args.val_seeds)
    root = args.pool_dir or pools
    several = len(fams) > 1 or args.pool_dir is None
    pool_dirs = {f.value: root / f"{f.value}-{size.value}" if several else root for f in fams}

    return TrainingData(
        label="+".join(f.value for f in fams),
        train=generated_specs(fams, size, train_seeds),
        val=generated_specs(fams, size, val_seeds),
        pool_dirs=pool_dirs,
        description={
            "size": size.value,
            "generator": "mipguide.instances.registry " + ",".join(f.value for f in fams),
        },
    )


def _file_instances(args: TrainArgs, pools: Path) -> TrainingData:
    """The user's model files (``--instances``: files, folders, globs), each read and checked
    to have binaries, split into training and validation by a seeded shuffle.

    Pool files are named as ``file_specs`` names the instances, so a rerun resumes and an
    edited file gets a new pool.

    Raises:
        InputError: no files, an unreadable one, or one without binary variables.
        InvalidOptionError: fewer than two files, or a bad ``--val-share``.
    """
    from mipguide.models.cards import ModelRef
    from mipguide.models.train import split_validation
    from mipguide.problem.files import model_files

    label = ModelRef.parse(args.out.name).name
    files = model_files(args.instances)
    if len(files) < 2:
        raise InvalidOptionError("--instances", f"{len(files)} file; training needs at least 2")
    if not 0 < args.val_share < 1:
        raise InvalidOptionError("--val-share", f"must be between 0 and 1, not {args.val_share}")
    train, val = split_validation(file_specs(files, label), args.val_share, args.seed)
    return TrainingData(
        label=label,
        train=train,
        val=val,
        pool_dirs={label: args.pool_dir or pools / f"files-{label}"},
        description={"source": "files", "files": [_shown(p) for p in files]},
    )


def _pool_solver(choice: str, registry: Sequence[Path], specs: Sequence[InstanceSpec]) -> str:
    """``--pool-solver`` resolved: ``auto`` is the plain selector's backend for most of the
    training instances (``mipguide.guidance.tuning.pool_backend``).

    Raises:
        InvalidOptionError: an unknown choice.
    """
    from mipguide.guidance.tuning import pool_backend

    try:
        return pool_backend(choice, registry, (s.build() for s in specs))
    except ValueError as exc:
        raise InvalidOptionError("--pool-solver", str(exc), ["auto", "scip", "highs"]) from exc


def _shown(path: Path) -> str:
    """A training file as the card names it: relative to the working directory when inside it."""
    try:
        return str(path.relative_to(Path.cwd()))
    except ValueError:
        return str(path)


def _checked(args: TrainArgs) -> tuple[SrgConfig, dict[str, Any]]:
    """The SRG network's shape and the card's recommended parameters, validated.

    Raises:
        InvalidOptionError: the offending option.
    """
    from mipguide.models.srg import SrgConfig

    if (args.family is None) == (not args.instances):
        raise InvalidOptionError("--family", "give either --family or instance files, not both")
    from mipguide.models.cards import ModelError, ModelRef

    try:
        ModelRef.parse(args.out.name)
    except ModelError as exc:
        raise InvalidOptionError("--out", f"{exc} (a folder .../NAME@VERSION)") from exc
    if args.kind not in ("pas", "srg"):
        raise InvalidOptionError("--kind", f"unknown kind {args.kind!r}", ["pas", "srg"])
    if not 0 < args.label_temperature < float("inf"):
        raise InvalidOptionError("--label-temperature", "must be a positive number")
    try:
        shape = SrgConfig(hidden=args.hidden, coupling=args.coupling)
    except (TypeError, ValueError) as exc:
        raise InvalidOptionError("--coupling", str(exc)) from exc
    if args.kind == "srg":
        return shape, srg_overrides(list(args.srg))
    return shape, pas_overrides(list(args.pas))


def _report(result: TrainResult, args: TrainArgs, console: Console) -> None:
    from mipguide.models.train import baseline_figures, baseline_note

    for h in result.history:
        figures = "".join(f"  {k} {v:.3f}" for k, v in h.metrics.items())
        console.print(
            f"epoch {h.epoch:3d}  train {h.train_loss:.4f}  val {h.val_loss:.4f}{figures}  "
            f"({h.seconds:.1f}s)"
        )
    console.print(
        f"best epoch {result.best_epoch} (val loss {result.best_val_loss:.4f}); saved {args.out}"
    )
    note = baseline_note({"best_val_loss": result.best_val_loss, **baseline_figures(result)})
    if note is not None:
        console.print(f"[yellow]warning:[/yellow] {note}")
