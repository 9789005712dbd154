from __future__ import annotations

import json
from pathlib import Path

import pytest


def make_synth(out: Path, customers: int, seed: int, spike: bool = True) -> dict:
    from negah.synth import generate

    generate(
        out, customers=customers, seed=seed, fmt="parquet", spike=spike, progress=False
    ) if "progress" in generate.__code__.co_varnames else generate(
        out, customers=customers, seed=seed, fmt="parquet", spike=spike
    )
    return json.loads((out / "ground_truth.json").read_text())


@pytest.fixture(scope="session")
def synth_small(tmp_path_factory) -> tuple[Path, dict]:
    out = tmp_path_factory.mktemp("synth4000")
    truth = make_synth(out, 4000, 1)
    return out, truth


@pytest.fixture(scope="session")
def churn_model_file(synth_small, tmp_path_factory) -> Path:
    """A store-mode churn classifier trained on the synth_small data up to 2024-10-01, saved to a file."""
    import warnings

    from negah.predict.backtest import train_store
    from negah.store import open_folder

    out, _ = synth_small
    st = open_folder(str(out))
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            m = train_store(
                st, "2024-10-01", horizon=90, n_cutoffs=1, model="lightgbm", backtest=False, folds=2, max_rounds=40
            )
    finally:
        st.close()
    return m.save(tmp_path_factory.mktemp("model") / "churn.negah")
