"""`mipguide bench guided`: every method on every instance under one wall budget on one thread.

Outputs in ``--out``: ``results.csv`` (one row per instance and method), ``traces.csv`` (every
incumbent), ``results.md`` (summary per method, then per instance) and ``gap.png`` (mean primal
gap over time per method). The reference of an instance is the best objective any method found
within the budget, unless a file of reference values is given (a given reference that a run
beats gives way to that run's objective). Primal integrals are divided by the budget (see
``mipguide.pipeline.primal``).
"""

from __future__ import annotations

import csv
import functools
import hashlib
import json
import math
import os
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, dataclass, replace
from pathlib import Path
from typing import Any

import numpy as np
from rich.console import Console
from rich.progress import Progress
from rich.table import Table

from mipguide.bench.guided_run import METHODS, RunOutcome, RunSpec, run_one
from mipguide.errors import InputError, InvalidOptionError
from mipguide.guidance.params import PasParams, SrgParams, parse_params
from mipguide.models.cards import Registry
from mipguide.pipeline.machine import calibrate
from mipguide.pipeline.primal import (
    gap_at,
    mean_gap_curve,
    primal_integral,
    time_to_first,
    time_to_within,
)
from mipguide.settings import SHIPPED_MODELS

# Slack on top of the budget within which a proof of optimality still counts.
PROOF_SLACK = 1.0


@dataclass(frozen=True)
class Row:
    """One line of results.csv."""

    instance: str
    method: str
    objective: float | None
    reference: float
    primal_gap: float
    primal_integral: float
    time_to_first: float | None
    time_to_1pct: float | None
    proven_optimal: bool
    status: str
    wall: float
    detail: str


@dataclass(frozen=True)
class GuidedArgs:
    """The command line of ``mipguide bench guided`` (see ``mipguide.cli.bench_guided``)."""

    files: tuple[Path, ...] = ()
    family: str | None = None
    size: str = "medium"
    seeds: str = "2000-2002"
    methods: str = "scip,pas"
    time_limit: float = 20.0
    out: Path = Path("bench-out/guided")
    reference: Path | None = None
    model: str | None = None
    grace: float = 2.0
    solver_seed: int = 0
    pas: tuple[str, ...] = ()
    jobs: int = 1
    resume: bool = False
    srg: tuple[str, ...] = ()
    srg_model: str | None = None


def bench_guided_command(args: GuidedArgs, console: Console) -> list[Row]:
    """Validate the command line (generating the family's instances if asked), then run.

    Raises:
        InvalidOptionError / InputError: the offending option or file.
    """
    from mipguide.commands.args import family_size_seeds, pas_overrides, srg_overrides
    from mipguide.commands.generate import run_generate
    from mipguide.commands.solve import local_model
    from mipguide.settings import get_settings

    paths = list(args.files)
    if args.family is not None:
        fam, sz, seed_list = family_size_seeds(args.family, args.size, args.seeds)
        paths += run_generate(fam, sz, seed_list, args.out / "instances", console)
    if not paths:
        raise InvalidOptionError("instances", "give model files or --family")
    for p in paths:
        if not p.exists():
            raise InputError(f"{p}: no such file")
    folder, model = local_model(args.model)
    srg_folder, srg_model = local_model(args.srg_model)
    folders = tuple(f for f in (folder, srg_folder) if f is not None)
    return run_bench_guided(
        paths,
        parse_methods(args.methods),
        args.time_limit,
        args.out,
        console,
        references=read_references(args.reference) if args.reference else None,
        model=model,
        model_dir=(*folders, *get_settings().model_dirs),
        grace=args.grace,
        seed=args.solver_seed,
        pas=pas_overrides(list(args.pas)),
        jobs=args.jobs,
        resume=args.resume,
        srg=srg_overrides(list(args.srg)),
        srg_model=srg_model,
    )


def parse_methods(spec: str) -> list[str]:
    """``"scip,pas"`` -> method names (validated)."""
    names = [m.strip() for m in spec.split(",") if m.strip()]
    for m in names:
        if m not in METHODS:
            raise InvalidOptionError("--methods", f"unknown method {m!r}", list(METHODS))
    if not names:
        raise InvalidOptionError("--methods", "no method given", list(METHODS))
    return names


def read_references(path: Path) -> dict[str, float]:
    """CSV with columns instance, reference."""
    with path.open(newline="") as fh:
        return {r["instance"]: float(r["reference"]) for r in csv.DictReader(fh)}


def instance_name(path: Path) -> str:
    name = path.name
    for ext in (".gz", ".bz2", ".mps", ".lp", ".json"):
        name = name.removesuffix(ext)
    return name


def run_bench_guided(
    files: Sequence[Path],
    methods: Sequence[str],
    budget: float,
    out: Path,
    console: Console,
    *,
    references: dict[str, float] | None = None,
    model: str | None = None,
    model_dir: Registry = SHIPPED_MODELS,
    grace: float = 2.0,
    seed: int = 0,
    pas: dict[str, Any] | None = None,
    srg: dict[str, Any] | None = None,
    srg_model: str | None = None,
    jobs: int = 1,
    resume: bool = False,
) -> list[Row]:
    """Run, score, and write the outputs; returns the rows of results.csv.

    Args:
        pas, srg: parameter overrides for the pas and srg methods (the srg ablations add
            their own, see ``guided_run.SRG_ABLATIONS``).
        model, srg_model: the PaS and the SRG model (default: the best match of each kind).
        jobs: runs at once (each run is one thread; keep ``jobs`` at most the idle cores).
        resume: reuse a run whose outcome is already saved in ``out/runs`` with the same
            instance, method, budget, seed, model and parameters (each finished run is saved
            there), e.g. to add a method to an earlier benchmark or finish an interrupted one.
    """
    out.mkdir(parents=True, exist_ok=True)
    (out / "runs").mkdir(exist_ok=True)
    specs = [
        RunSpec(p, m, budget, seed, model, model_dir, dict(pas or {}), srg=dict(srg or {}),
                srg_model=srg_model)
        for p in files
        for m in methods
    ]  # fmt: skip
    outcomes, todo = _plan(specs, out / "runs", resume)
    # this machine's speed now, before any run loads it: saved with every new run
    calibration = calibrate() if todo else None
    with Progress(console=console) as bar:
        task = bar.add_task(
            f"guided bench ({len(outcomes)} reused)", total=len(files) * len(methods)
        )
        bar.advance(task, len(outcomes))

        def run(item: tuple[tuple[str, str], RunSpec, Path]) -> None:
            key, spec, saved = item
            outcome = replace(run_one(spec, grace), calibration=calibration)
            save_outcome(outcome, saved)
            outcomes[key] = outcome
            bar.update(task, description=f"{key[0]} / {key[1]} done")
            bar.advance(task)

        with ThreadPoolExecutor(max_workers=max(1, jobs)) as pool:
            list(pool.map(run, todo))
    order = {
        (instance_name(p), m): i for i, (p, m) in enumerate((p, m) for p in files for m in methods)
    }
    outcomes = dict(sorted(outcomes.items(), key=lambda kv: order[kv[0]]))
    rows = score(outcomes, budget, references or {})
    write_outputs(rows, outcomes, methods, budget, out, seed, files)
    print_summary(rows, methods, budget, console)
    console.print(f"results in {out}")
    return rows


Todo = list[tuple[tuple[str, str], RunSpec, Path]]


def _plan(
    specs: list[RunSpec], runs: Path, resume: bool
) -> tuple[dict[tuple[str, str], RunOutcome], Todo]:
    """The saved outcomes to reuse (with ``resume``) and the runs to do, with their save paths."""
    outcomes: dict[tuple[str, str], RunOutcome] = {}
    todo: Todo = []
    for spec in specs:
        key = (instance_name(spec.path), spec.method)
        saved = runs / f"{key[0]}__{spec.method}__{_spec_key(spec)}.json"
        if resume and saved.is_file():
            outcomes[key] = load_outcome(saved)
        else:
            todo.append((key, spec, saved))
    return outcomes, todo


def _spec_key(spec: RunSpec) -> str:
    """A short hash of what makes a run (the instance by name, not by content).

    The guided methods hash their effective parameters (defaults included), so a changed
    default or a new parameter makes new runs; so do a changed card of the model the run uses
    (retrained or re-tuned; ``_registry_digest``) and a changed plain selector where the run's
    backend is ``auto``; a change of the code alone does not.
    """
    kind, solver, _ = METHODS[spec.method]
    # a plain solve's model and search settings are unused (as if none were given)
    model, pas = (None, {}) if kind == "exact" else (spec.model, spec.pas)
    what: list[Any] = [spec.method, spec.budget, spec.seed, model, pas]
    if kind == "pas":
        what.append(parse_params(PasParams, "pas", spec.pas).model_dump())
    if kind == "srg":
        srg = parse_params(SrgParams, "srg", spec.srg).model_dump()
        what += [spec.srg, spec.srg_model, srg]
    selector = solver == "auto" and spec.method != "probe"  # probe: the selector is off
    if kind != "exact" or selector:
        named = spec.guidance()[0]
        what.append(_registry_digest(spec.model_dir, kind, selector, spec.path, named))
    return hashlib.sha256(json.dumps(what, default=str, sort_keys=True).encode()).hexdigest()[:10]


def _registry_digest(
    model_dir: Registry,
    kind: str,
    selector: bool,
    path: Path | None = None,
    named: str | None = None,
) -> str:
    """A hash of the card of the model a run of ``kind`` uses (PaS's for ``auto``, which
    follows PaS models; none for ``exact``) and, with ``selector``, of its plain selector files.

    The model is the one ``named`` (a registered name or a model folder), else the best match
    for the instance at ``path`` among the registry's cards of that kind (its reference and
    card: another card becoming the better match, or the match's card changing, both change the
    hash). Where neither can be told (the named model is not found, the instance cannot be
    read), every card of that kind counts. Read per run (a handful of small files): a card
    re-tuned between runs counts.
    """
    from mipguide.models.cards import model_cards, registry_roots, split_path_ref
    from mipguide.models.selector import SELECTOR_FILE

    kinds = {"exact": (), "auto": ("pas",)}.get(kind, (kind,))
    folder, ref = split_path_ref(named) if named is not None else (None, None)
    cards_dir = model_dir if folder is None else folder  # a model named by its folder
    parts: list[Any] = [_used_cards(model_cards(cards_dir, k), path, ref) for k in kinds]
    if selector:
        for root in registry_roots(model_dir):
            file = Path(root) / SELECTOR_FILE
            parts.append(file.read_text() if file.is_file() else None)
    return hashlib.sha256(json.dumps(parts, default=str, sort_keys=True).encode()).hexdigest()


def _used_cards(
    cards: list[tuple[str, dict[str, Any]]], path: Path | None, named: str | None
) -> list[tuple[str, dict[str, Any]]] | tuple[str | None, dict[str, Any] | None]:
    """(ref, card) of the model a run uses, (None, None) when no card matches its instance, or
    every card when that cannot be told."""
    from mipguide.models.signature import best_match

    if named is not None:
        found = [(ref, card) for ref, card in cards if ref == named]
        return found[0] if found else cards
    sig = None if path is None else _instance_signature(str(path))
    if sig is None:
        return cards
    match = best_match(sig, cards)
    if match is None:
        return (None, None)
    return next((ref, card) for ref, card in cards if ref == match.ref)


def _instance_signature(path: str) -> dict[str, Any] | None:
    """The signature of the instance file at ``path`` (cached by its size and time), or None
    when it cannot be read."""
    try:
        stat = os.stat(path)
    except OSError:
        return None
    return _signature_of(path, stat.st_mtime_ns, stat.st_size)


@functools.lru_cache(maxsize=256)
def _signature_of(path: str, _mtime: int, _size: int) -> dict[str, Any] | None:
    from mipguide.errors import MipguideError
    from mipguide.models.signature import signature
    from mipguide.problem.io import read_problem

    try:
        return signature(read_problem(path))
    except (MipguideError, OSError, ValueError):
        return None


def save_outcome(outcome: RunOutcome, path: Path) -> None:
    """One run's outcome as JSON (written atomically)."""
    tmp = path.with_suffix(".tmp")
    tmp.write_text(json.dumps(asdict(outcome)))
    tmp.replace(path)


def load_outcome(path: Path) -> RunOutcome:
    raw = json.loads(path.read_text())
    raw["trace"] = [tuple(t) for t in raw["trace"]]
    return RunOutcome(**raw)


def score(
    outcomes: dict[tuple[str, str], RunOutcome], budget: float, references: dict[str, float]
) -> list[Row]:
    """Per (instance, method): the protocol's metrics against the reference."""
    rows = []
    instances = list(dict.fromkeys(name for name, _ in outcomes))
    for name in instances:
        runs = {m: o for (n, m), o in outcomes.items() if n == name}
        sense = next((o.sense for o in runs.values() if o.sense is not None), 1)
        ref = _reference(references.get(name), _best(runs.values(), sense), sense)
        for method, o in runs.items():
            trace = [(t, obj) for t, obj, _ in o.trace]
            best = _best([o], sense)
            has_ref = ref is not None and math.isfinite(ref)
            r = ref if has_ref else math.nan
            rows.append(
                Row(
                    instance=name,
                    method=method,
                    objective=None if math.isnan(best) else best,
                    reference=r,
                    primal_gap=gap_at(trace, r, sense, budget) if has_ref else 1.0,
                    primal_integral=primal_integral(trace, r, sense, budget) if has_ref else 1.0,
                    time_to_first=time_to_first(trace, budget),
                    time_to_1pct=time_to_within(trace, r, sense, budget) if has_ref else None,
                    proven_optimal=o.status == "optimal" and o.wall <= budget + PROOF_SLACK,
                    status=o.status,
                    wall=o.wall,
                    detail=o.detail,
                )
            )
    return rows


def _reference(given: float | None, found: float, sense: int) -> float:
    """The given reference, or the best found when there is none or when a run beat it (a
    reference file older than the runs; the gap is to the best known objective)."""
    if given is None or math.isnan(given):
        return found
    if math.isnan(found):
        return given
    return min(given, found) if sense > 0 else max(given, found)


def _best(runs: object, sense: int) -> float:
    vals = [obj for o in runs for _, obj, _ in o.trace]  # type: ignore[attr-defined]
    if not vals:
        return math.nan
    return min(vals) if sense > 0 else max(vals)


def write_outputs(
    rows: list[Row],
    outcomes: dict[tuple[str, str], RunOutcome],
    methods: Sequence[str],
    budget: float,
    out: Path,
    seed: int = 0,
    files: Sequence[Path] = (),
) -> None:
    with (out / "results.csv").open("w", newline="") as fh:
        w = csv.writer(fh)
        w.writerow(Row.__dataclass_fields__)
        for r in rows:
            w.writerow([csv_cell(getattr(r, f)) for f in Row.__dataclass_fields__])
    with (out / "traces.csv").open("w", newline="") as fh:
        w = csv.writer(fh)
        w.writerow(["instance", "method", "t", "objective", "source"])
        for (name, method), o in outcomes.items():
            for t, obj, src in o.trace:
                w.writerow([name, method, f"{t:.4f}", repr(obj), src])
    (out / "results.md").write_text(markdown(rows, methods, budget, seed))
    senses = {name: o.sense for (name, _), o in outcomes.items() if o.sense is not None}
    meta = {"budget": budget, "seed": seed, "methods": list(methods), "senses": senses}
    paths = {instance_name(p): str(p.resolve()) for p in files}  # for tune-plain to read them
    # each run's machine calibration, in the order of ``runs`` (resumed runs keep their own)
    calibrations = [o.calibration for o in outcomes.values()]
    body = {**meta, "files": paths, "runs": list(outcomes), "calibration": calibrations}
    (out / "run.json").write_text(json.dumps(body, indent=1))
    plot_gap(rows, outcomes, methods, budget, out / "gap.png")


def csv_cell(v: object) -> str:
    """A value as a CSV/Markdown cell: empty for None and NaN, 6 significant digits."""
    if v is None:
        return ""
    if isinstance(v, float):
        return "" if math.isnan(v) else f"{v:.6g}"
    return str(v)


def summary(rows: list[Row], method: str) -> dict[str, float | int]:
    mine = [r for r in rows if r.method == method]
    first = [r.time_to_first for r in mine if r.time_to_first is not None]
    within = [r.time_to_1pct for r in mine if r.time_to_1pct is not None]
    return {
        "instances": len(mine),
        "gap": float(np.mean([r.primal_gap for r in mine])) if mine else math.nan,
        "integral": float(np.mean([r.primal_integral for r in mine])) if mine else math.nan,
        "first": float(np.mean(first)) if first else math.nan,
        "found": len(first),
        "within": float(np.mean(within)) if within else math.nan,
        "reached": len(within),
        "optimal": sum(r.proven_optimal for r in mine),
    }


def markdown(rows: list[Row], methods: Sequence[str], budget: float, seed: int = 0) -> str:
    lines = [
        f"# Guided benchmark ({budget:g} s per method and instance, one thread, "
        f"solver seed {seed})",
        "",
        "Primal integral = integral of the primal gap over [0, T] divided by T. Reference = best",
        "objective any method found within the budget, or the given reference when no run beat it.",
        "Times include reading, features and inference.",
        "",
        "| method | instances | mean primal gap at T | mean primal integral | mean time to first "
        "(found) | mean time to 1% (reached) | proven optimal |",
        "|---|---|---|---|---|---|---|",
    ]
    for m in methods:
        s = summary(rows, m)
        lines.append(
            f"| {m} | {s['instances']} | {s['gap']:.4f} | {s['integral']:.4f} | "
            f"{s['first']:.2f} s ({s['found']}) | {s['within']:.2f} s ({s['reached']}) | "
            f"{s['optimal']} |"
        )
    lines += [
        "",
        "| instance | method | objective | reference | gap | integral | first | 1% | "
        "optimal | status |",
        "|---|---|---|---|---|---|---|---|---|---|",
    ]
    for r in rows:
        lines.append(
            f"| {r.instance} | {r.method} | {csv_cell(r.objective)} | {csv_cell(r.reference)} | "
            f"{r.primal_gap:.4f} | {r.primal_integral:.4f} | {csv_cell(r.time_to_first)} | "
            f"{csv_cell(r.time_to_1pct)} | {'yes' if r.proven_optimal else 'no'} | {r.status} |"
        )
    return "\n".join(lines) + "\n"


def plot_gap(
    rows: list[Row],
    outcomes: dict[tuple[str, str], RunOutcome],
    methods: Sequence[str],
    budget: float,
    path: Path,
) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(7, 4.5))
    for m in methods:
        mine = [r for r in rows if r.method == m]
        traces = [[(t, o) for t, o, _ in outcomes[(r.instance, m)].trace] for r in mine]
        senses = [outcomes[(r.instance, m)].sense or 1 for r in mine]
        refs = [r.reference if math.isfinite(r.reference) else 0.0 for r in mine]
        grid, curve = mean_gap_curve(traces, refs, senses, budget)
        ax.step(grid, curve, where="post", label=m)
    ax.set_xlabel("seconds (reading, features, inference included)")
    ax.set_ylabel("mean primal gap")
    ax.set_ylim(-0.02, 1.02)
    ax.set_xlim(0, budget)
    ax.grid(alpha=0.3)
    ax.legend()
    ax.set_title(f"Primal gap over time, {len({r.instance for r in rows})} instances")
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)


def print_summary(rows: list[Row], methods: Sequence[str], budget: float, console: Console) -> None:
    table = Table(title=f"guided benchmark, {budget:g} s, one thread")
    for col in ("method", "n", "gap at T", "integral", "first (found)", "1% (reached)", "optimal"):
        table.add_column(col, justify="right")
    for m in methods:
        s = summary(rows, m)
        table.add_row(
            m,
            str(s["instances"]),
            f"{s['gap']:.4f}",
            f"{s['integral']:.4f}",
            f"{s['first']:.2f} ({s['found']})",
            f"{s['within']:.2f} ({s['reached']})",
            str(s["optimal"]),
        )
    console.print(table)
