"""Tiny registered models (untrained, fixed seed) for the guided-solve tests: PaS and SRG; a
small facility-location instance (binaries plus continuous variables)."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch

from mipguide.instances.facility import FacilityParams
from mipguide.instances.registry import Family, generate_with
from mipguide.models.pas import PaSConfig, PaSNet
from mipguide.models.registry import LoadedModel, load_model, save_model
from mipguide.models.srg import SrgConfig, SrgNet
from mipguide.problem.model import Problem

TINY_REF = "pas-tiny@1"
TINY_SRG_REF = "srg-tiny@1"


@pytest.fixture(scope="session")
def tiny_model_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("models")
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(0)
        net = PaSNet(PaSConfig(hidden=8, rounds=1))
    save_model(net, root / TINY_REF, {"note": "untrained, for tests"})
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(0)
        # the shipped networks' input widths (it reads the first 13 / 14 feature columns):
        # the sampler tests' premises (an untrained network far from feasible on set cover,
        # candidates that differ between seeds) hold for this initialization
        srg = SrgNet(SrgConfig(hidden=8, var_dim=13, row_dim=14))
    save_model(srg, root / TINY_SRG_REF, {"note": "untrained, for tests"})
    return root


@pytest.fixture(scope="session")
def tiny_model(tiny_model_dir: Path) -> LoadedModel:
    return load_model(TINY_REF, tiny_model_dir, "cpu")


@pytest.fixture(scope="session")
def tiny_srg_model(tiny_model_dir: Path) -> LoadedModel:
    return load_model(TINY_SRG_REF, tiny_model_dir, "cpu")


@pytest.fixture(autouse=True, scope="session")
def _one_torch_thread():  # noqa: ANN202
    """Sampling is latency-bound (20 small forwards); on a shared 2-core machine torch's
    default of one thread per core spins against the solvers and is many times slower."""
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)


@pytest.fixture(scope="session")
def small_facility() -> Problem:
    """15 customers, 8 facilities (seed 1): a problem whose binaries need an LP completion."""
    return generate_with(
        Family.FACILITY_LOCATION, FacilityParams(n_customers=15, n_facilities=8), 1
    )
