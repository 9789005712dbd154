"""The negah service: a FastAPI application over the same library calls as the CLI.

Import :func:`negah.api.app.create_app` / :func:`negah.api.app.run`; this package is
never imported by ``import negah`` (FastAPI and Jinja load only here).
"""
