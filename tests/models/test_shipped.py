"""The shipped models: they load (checksum), their cards say how to reproduce them, and
mode=auto (PaS) and mode=srg pick each family's own model on held-out and larger instances."""

from __future__ import annotations

from pathlib import Path

import pytest

from mipguide.guidance.params import PasParams, SrgParams, parse_params
from mipguide.guidance.selection import select_model
from mipguide.instances.registry import PROTOCOL_FAMILIES, Family, Size, generate
from mipguide.models.registry import list_models, load_model

WEIGHTS = Path(__file__).parents[2] / "models" / "weights"
SHIPPED = [f"pas-{f.value}@1" for f in PROTOCOL_FAMILIES] + ["pas-mix@1"]
# auctions and facility location: version 2 (more instances, resp. longer pools; models/weights)
SRG_FAMILY = {
    f: f"srg-{f.value}@{2 if f in (Family.COMBINATORIAL_AUCTION, Family.FACILITY_LOCATION) else 1}"
    for f in PROTOCOL_FAMILIES
}
SHIPPED_SRG = [*SRG_FAMILY.values(), "srg-mix@1", "srg-indep-mix@1"]


def test_every_shipped_model_is_registered() -> None:
    assert sorted(str(r) for r in list_models(WEIGHTS)) == sorted(SHIPPED + SHIPPED_SRG)


@pytest.mark.parametrize("ref", SHIPPED + SHIPPED_SRG)
def test_shipped_model_loads_and_has_a_complete_card(ref: str) -> None:
    loaded = load_model(ref, WEIGHTS, "cpu")
    card = loaded.card
    assert card["training_data"]["command"].startswith("mipguide train ")
    assert f"--out models/weights/{ref}" in card["training_data"]["command"]
    assert card["signature"] and card["metrics"]["best_val_loss"] > 0
    if ref.startswith("srg-"):
        assert loaded.config["kind"] == "srg"
        assert "--kind srg" in card["training_data"]["command"]
        parse_params(SrgParams, "srg", card.get("srg"))
    else:
        assert loaded.config["kind"] == "pas"
        parse_params(PasParams, "pas", card.get("pas"))
    assert (WEIGHTS / ref / "weights.safetensors").stat().st_size < 2_000_000


def test_the_independent_variables_model_has_no_coupling() -> None:
    loaded = load_model("srg-indep-mix@1", WEIGHTS, "cpu")
    assert loaded.config["coupling"] == "none" and "--coupling none" in str(loaded.card)


@pytest.mark.parametrize("family", PROTOCOL_FAMILIES)
@pytest.mark.parametrize("size", [Size.MEDIUM, Size.HARD])
def test_auto_picks_the_family_model(family: Family, size: Size) -> None:
    match = select_model(generate(family, size, 2000), WEIGHTS)
    assert match is not None and match.ref == f"pas-{family.value}@1"


@pytest.mark.parametrize("family", PROTOCOL_FAMILIES)
@pytest.mark.parametrize("size", [Size.MEDIUM, Size.HARD])
def test_srg_picks_the_family_score_model(family: Family, size: Size) -> None:
    match = select_model(generate(family, size, 2000), WEIGHTS, "srg")
    assert match is not None and match.ref == SRG_FAMILY[family]
