"""`mipguide generate`: write benchmark instances (family, size, seeds) as MPS files."""

from __future__ import annotations

from pathlib import Path

from rich.console import Console
from rich.progress import track

from mipguide.instances.registry import Family, Size, generate, instance_name


def run_generate(
    family: Family, size: Size, seeds: list[int], out: Path, console: Console, gz: bool = False
) -> list[Path]:
    """Generate each seed's instance and write ``OUT/<family>-<size>-<seed>.mps[.gz]``."""
    from mipguide.problem.io import write_problem

    out.mkdir(parents=True, exist_ok=True)
    paths = []
    for seed in track(seeds, description=f"{family.value}-{size.value}", console=console):
        path = out / f"{instance_name(family, size, seed)}.mps{'.gz' if gz else ''}"
        write_problem(generate(family, size, seed), path)
        paths.append(path)
    console.print(f"wrote {len(paths)} instances to {out}")
    return paths


def generate_command(
    family: str, size: str, seeds: str, out: Path, gz: bool, console: Console
) -> list[Path]:
    """``mipguide generate``: validate the family, size and seeds, then write the files."""
    from mipguide.commands.args import family_size_seeds

    fam, sz, seed_list = family_size_seeds(family, size, seeds)
    return run_generate(fam, sz, seed_list, out, console, gz=gz)
