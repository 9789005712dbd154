"""The ``negah`` command: one thin command per library call.

Command modules live beside this file; each defines ``register(app)`` and keeps heavy
imports (Ibis, pandas, scipy, LightGBM, Spark) inside its command functions so that
``negah --help`` starts fast. Machine-readable output goes to stdout alone; progress,
logs and warnings go to stderr.
"""

from __future__ import annotations

import importlib
import importlib.util

import typer

app = typer.Typer(
    name="negah",
    help="negah: customer retention and churn analytics (metrics, CLV models, churn prediction, actions).",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
    context_settings={"help_option_names": ["-h", "--help"]},
)

# Each module defines register(app). Order = order in `negah --help`.
COMMAND_MODULES = [
    "negah.cli.store_cmd",  # import, info, export, erase-customer
    "negah.cli.synth_cmd",  # synth
    "negah.cli.demo_cmd",  # demo
    "negah.cli.metrics_cmd",  # metrics, cohorts, growth, benchmark, mrr
    "negah.cli.clv_cmd",  # clv fit / predict / check
    "negah.cli.predict_cmd",  # predict train / score / evaluate, survival
    "negah.cli.actions_cmd",  # actions, segments, reasons, contact-plan, evaluate-program, campaigns, check, whatif
    "negah.cli.serve_cmd",  # serve, keys, report
]

for _name in COMMAND_MODULES:
    if importlib.util.find_spec(_name) is not None:
        importlib.import_module(_name).register(app)


@app.callback()
def _root(
    version: bool = typer.Option(False, "--version", help="Print the version and exit.", is_eager=True),
) -> None:
    if version:
        from negah import __version__

        typer.echo(__version__)
        raise typer.Exit()


def main() -> None:  # pragma: no cover - console entry
    app()
