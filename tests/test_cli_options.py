"""The options many commands share are declared once (negah.cli.common): the same flags,
choices and help wherever they appear."""

from __future__ import annotations

import typer
import typer.main

from negah.cli.main import app


def _options() -> dict[str, dict[str, tuple[str, str]]]:
    """option flag -> command path -> (flags and metavar, help) as ``--help`` prints them."""
    out: dict[str, dict[str, tuple[str, str]]] = {}

    def walk(cmd, path: str) -> None:
        for name, sub in getattr(cmd, "commands", {}).items():
            walk(sub, f"{path} {name}".strip())
        ctx = typer.Context(cmd, info_name=path)
        for p in cmd.params:
            rec = p.get_help_record(ctx) if getattr(p, "param_type_name", "") == "option" else None
            if rec:
                out.setdefault(p.opts[0], {})[path] = rec

    walk(typer.main.get_group(app), "")
    return out


def test_shared_options_read_the_same_everywhere():
    opts = _options()
    for flag in ("--store", "--data", "--period", "--from", "--to"):
        seen = set(opts[flag].values())
        assert len(seen) == 1, f"{flag} is declared differently: {opts[flag]}"
    assert len(opts["--store"]) > 20 and len(opts["--period"]) >= 5


def test_choices_come_from_one_list_per_concept():
    opts = _options()
    allowed = {
        "--format": {"<table|json|csv>", "<csv|json>", "<table|json>"},
        "--lang": {"<en|fa>"},
        "--calendar": {"<gregorian|jalali>"},
    }
    for flag, metavars in allowed.items():
        for cmd, (decl, _help) in opts[flag].items():
            if cmd == "synth":  # --format there is the file format of the tables (parquet|csv)
                continue
            assert decl.split()[-1] in metavars, f"negah {cmd} {decl}"
