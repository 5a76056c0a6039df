"""A training job in a worker process: (stored instances, options) -> a model in the key's own
registry + result.json.

The job's input is a manifest the manager wrote at submit time (``train.json``: the stored
instances, each with the solutions past jobs found for it, paths relative to the manifest). The
worker builds the solution pools (time-boxed SCIP or HiGHS, merged with those solutions), trains
with early stopping on a seeded validation split, and registers the model under ``NAME@VERSION`` in
the owner's directory. Progress goes out as log lines and ``progress`` events; an interrupt
stops it between two pools or two epochs, and nothing is registered then.
"""

from __future__ import annotations

import json
import os
import shutil
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from mipguide.errors import InputError
from mipguide.models.cards import ModelExistsError, model_path
from mipguide.models.pools import InstanceSpec
from mipguide.solvers.types import Interrupt

MANIFEST = "train.json"

Log = Callable[[str], None]
OnProgress = Callable[[dict[str, Any]], None]


def run_train_job(
    manifest_path: Path,
    options: dict[str, Any],
    own_models: Path,
    device: str,
    log: Log,
    on_progress: OnProgress,
    interrupt: Interrupt,
    job_id: str,
) -> dict[str, Any]:
    """Pools, training and registration of one model; returns the result document.

    Raises:
        ModelExistsError: the key registered a model of that reference meanwhile.
        InputError: an instance has no feasible solution in its pool time.
        Stopped: interrupted (cancel or watchdog).
    """
    import torch

    from mipguide.guidance.tuning import pool_backend
    from mipguide.models.pools import PoolConfig
    from mipguide.models.train import (
        TrainConfig,
        TrainJob,
        baseline_note,
        split_validation,
        train_model,
    )
    from mipguide.models.train_pas import PasObjective
    from mipguide.models.train_srg import SrgObjective

    torch.set_num_threads(1)
    manifest = json.loads(manifest_path.read_text())
    root = manifest_path.parent
    ref = str(options["name"])
    target = model_path(own_models, ref)
    if target.exists():
        raise ModelExistsError(f"model {ref} exists already; choose another NAME@VERSION")
    label = ref.split("@")[0]
    specs = [
        InstanceSpec(
            label,
            None,
            i,
            item["name"],
            path=str(root / item["problem"]),
            solutions=str(root / item["solutions"]) if item.get("solutions") else None,
        )
        for i, item in enumerate(manifest["instances"])
    ]
    train, val = split_validation(specs, float(options["val_share"]), int(options["seed"]))
    log(f"[train] {ref}: {len(train)} training and {len(val)} validation instances")
    t0 = time.perf_counter()

    def report(stage: str, figures: dict[str, Any]) -> None:
        if stage == "pools" and "skipped" in figures:  # instances with no solution in time
            log(f"[train] solution pools: {figures['reason']}")
        elif stage == "pools":
            log(f"[train] solution pools {figures['done']}/{figures['total']}")
            on_progress({"stage": "pools", "done": figures["done"], "total": figures["total"]})
        else:
            extra = "".join(f"  {k} {v:.4f}" for k, v in figures.get("metrics", {}).items())
            log(
                f"[train] epoch {figures['epoch']}  train {figures['train_loss']:.4f}  "
                f"val {figures['val_loss']:.4f}{extra}"
            )
            on_progress(
                {
                    "stage": "epoch",
                    "done": figures["epoch"] + 1,
                    "total": int(options["epochs"]),
                    "train_loss": figures["train_loss"],
                    "val_loss": figures["val_loss"],
                    **figures.get("metrics", {}),
                }
            )

    # built (and tuned) out of sight: a dot folder is no registry entry
    staging_root = own_models / f".staging-{job_id}"
    staging = staging_root / ref
    shutil.rmtree(staging_root, ignore_errors=True)
    objective: Any = PasObjective() if options["kind"] == "pas" else SrgObjective()
    pool_solver = pool_backend(
        str(options.get("pool_solver", "auto")), own_models, (s.build() for s in train)
    )
    log(f"[train] solution pools: {pool_solver}, {float(options['pool_time']):g} s each")
    job = TrainJob(
        objective=objective,
        family=label,
        train_specs=train,
        val_specs=val,
        pool_dirs={label: root / "pools"},
        out=staging,
        pool=PoolConfig(
            k=int(options["pool_k"]),
            time_limit=float(options["pool_time"]),
            method=pool_solver,
            seed=0,
        ),
        train=TrainConfig(
            epochs=int(options["epochs"]),
            patience=int(options["patience"]),
            seed=int(options["seed"]),
        ),
        workers=1,
        device=device,
        description=manifest["source"],
    )
    try:
        try:
            result = train_model(job, progress=False, report=report, stop=interrupt.is_set)
        except ValueError as exc:  # a pool without any feasible solution, named
            raise InputError(str(exc).replace(str(root), "")) from exc
        # an instance whose pool run found no solution was left out of training and tuning
        card = json.loads((staging / "card.json").read_text())  # tuning keeps metrics, signature
        skipped = set(card["training_data"].get("no_solution", []))
        train = tuple(s for s in train if s.name not in skipped)
        val = tuple(s for s in val if s.name not in skipped)
        tuned = _tune(staging, val, options, device, log, on_progress, interrupt)
        try:
            os.rename(staging, target)  # atomic; refuses an existing non-empty target
        except OSError as exc:
            raise ModelExistsError(f"model {ref} exists already") from exc
    finally:
        shutil.rmtree(staging_root, ignore_errors=True)
    seconds = time.perf_counter() - t0
    log(
        f"[train] registered {ref}: best epoch {result.best_epoch}, "
        f"val loss {result.best_val_loss:.4f}, {seconds:.1f} s"
    )
    note = baseline_note(card.get("metrics", {}))
    if note is not None:
        log(f"[train] warning: {note}")
    return {
        "kind": "train",
        "model": ref,
        "model_kind": options["kind"],
        "status": "trained",
        "termination": "early_stop" if result.stopped_early else "epochs",
        "objective": result.best_val_loss,
        "train_instances": len(train),
        "val_instances": len(val),
        "skipped_instances": len(skipped),
        "metrics": card.get("metrics", {}),
        "signature": [c.get("label", "") for c in card.get("signature", [])],
        "search_settings": tuned,
        "seconds": round(seconds, 3),
    }


def _tune(
    staging: Path,
    val: Sequence[InstanceSpec],
    options: dict[str, Any],
    device: str,
    log: Log,
    on_progress: OnProgress,
    interrupt: Interrupt,
) -> str | None:
    """Choose a PaS model's search settings on its validation instances (the declared grid,
    ``tune_time`` seconds a run); the name of the chosen point, or None when not tuned."""
    budget = float(options.get("tune_time", 0.0))
    if options["kind"] != "pas" or budget <= 0:
        return None
    from mipguide.guidance.tuning import PAS_GRID, SERVE_HORIZON, tune_registered

    chosen = [(s.name, s.build()) for s in val[: int(options.get("tune_instances", 3))]]
    horizon = float(options.get("tune_horizon", SERVE_HORIZON))
    log(
        f"[train] search settings: {len(PAS_GRID)} grid points on the backend the plain "
        f"selector picks, each backend alone, the best on the other, x {len(chosen)} "
        f"instances, {budget:g} s a run; the lowest integral over "
        f"{max(budget, horizon):g} s among the points "
        "whose finals hold against the backends alone"
    )

    def report(run: dict[str, Any]) -> None:
        on_progress({"stage": "tuning", "done": run["done"], "total": run["total"]})
        log(
            f"[train] tuning {run['done']}/{run['total']}: {run['point']} on "
            f"{run['instance']} -> {run['objective']}"
        )

    tuning = tune_registered(
        staging,
        chosen,
        budget=budget,
        seeds=[int(options["seed"])],
        device=device,
        report=report,
        stop=interrupt.is_set,
        horizon=horizon,
    )
    figures = ", ".join(
        f"{p} {f['primal_integral']:.4f}" for p, f in tuning.record["figures"].items()
    )
    log(
        f"[train] search settings chosen: {tuning.choice} on {tuning.solver}, mode=auto "
        f"{tuning.auto} ({figures})"
    )
    return tuning.choice
