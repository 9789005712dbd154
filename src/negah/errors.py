"""The exceptions negah users catch.

Every message names the object, what is allowed and what was received, so that the
person reading it can fix the input without reading the code.
"""

from __future__ import annotations


class NegahError(Exception):
    """Base class of every error negah raises on purpose."""


class StoreError(NegahError):
    """The store cannot be opened, is locked, or has an unknown schema version."""


class SchemaError(NegahError):
    """A table or column does not fit the canonical schema."""


class InputError(NegahError):
    """A file or a value given by the user is not valid.

    ``problems`` holds one :class:`Problem` per offending cell or file (capped), so that a
    caller can print them all at once.
    """

    def __init__(self, message: str, problems: list | None = None):
        super().__init__(message)
        self.problems = list(problems or [])


class ModelError(NegahError):
    """A model could not be fitted, or was used before it was fitted."""


class ConvergenceError(ModelError):
    """An optimiser did not converge; the message carries a checklist of what to try."""


class BoundaryWarning(UserWarning):
    """A fit's maximum lies on the boundary of the parameter space; a limiting model was reported.

    Example: the BG/NBD's a, b -> infinity (every customer has the same drop-out
    probability). The model's ``boundary_`` attribute says what was reported.
    """
