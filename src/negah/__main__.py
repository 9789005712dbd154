"""``python -m negah`` is the ``negah`` command."""

from negah.cli.main import app

if __name__ == "__main__":  # pragma: no cover
    app(prog_name="negah")
