from __future__ import annotations

import json
from pathlib import Path

import pytest


def make_synth(out: Path, customers: int, seed: int, spike: bool = True) -> dict:
    from negah.synth import generate

    generate(out, customers=customers, seed=seed, fmt="parquet", spike=spike, progress=False) \
        if "progress" in generate.__code__.co_varnames else generate(out, customers=customers, seed=seed,
                                                                        fmt="parquet", spike=spike)
    return json.loads((out / "ground_truth.json").read_text())


@pytest.fixture(scope="session")
def synth_small(tmp_path_factory) -> tuple[Path, dict]:
    out = tmp_path_factory.mktemp("synth4000")
    truth = make_synth(out, 4000, 1)
    return out, truth
