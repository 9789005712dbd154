"""A cut-off before the data, or an evaluation inside the training data: clear words, not a
traceback or an empty table (the commands the user runs, on a real store)."""

from __future__ import annotations

import pytest
from typer.testing import CliRunner

from negah.cli.main import app
from negah.errors import InputError

runner = CliRunner()


def test_features_and_survival_before_the_data_say_where_the_data_are(business_store):
    from negah.predict.features import build_features
    from negah.predict.survival import survival_frame

    for fn in (build_features, survival_frame):
        with pytest.raises(InputError, match=r"no customers at the cut-off 2001-01-01: .* \(the data run from "):
            fn(business_store, "2001-01-01")


@pytest.mark.parametrize("cmd", [["segments"], ["actions", "at-risk"], ["reasons"], ["predict", "survival"]])
def test_commands_refuse_a_cut_off_before_the_data(business_path, cmd):
    r = runner.invoke(app, [*cmd, "--store", str(business_path), "--as-of", "2001-01-01"])
    assert r.exit_code == 2, r.output
    assert "2001-01-01" in r.output and "Traceback" not in r.output


def test_an_unknown_at_risk_segment_lists_the_names(business_path):
    r = runner.invoke(app, ["actions", "at-risk", "--store", str(business_path), "--segment", "at risk"])
    assert r.exit_code == 2 and "expected one of champions" in r.output and "at_risk" in r.output


def test_in_sample_evaluation_is_flagged(business_store, store_model):
    from negah.predict.backtest import evaluate_store, in_sample

    res = evaluate_store(store_model, business_store, "2024-06-01", horizon=90)
    assert res["in_sample"] is True  # trained on data up to 2024-10-01
    import datetime as dt

    assert not in_sample(store_model, dt.date(2024, 10, 1))


def test_training_summary_as_csv(business_path, tmp_path):
    r = runner.invoke(
        app,
        [
            "predict",
            "train",
            "--store",
            str(business_path),
            "--as-of",
            "2024-10-01",
            "--cutoffs",
            "2",
            "--model",
            "logistic",
            "--no-backtest",
            "-f",
            "csv",
            "--out",
            str(tmp_path / "m.model"),
        ],
    )
    assert r.exit_code == 0, r.output
    lines = r.stdout.splitlines()
    assert lines[0] == "key,value" and any(x.startswith("model,") for x in lines)
    assert any(x.startswith("training.horizon,90") for x in lines)
