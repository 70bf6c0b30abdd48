"""The one root of the errors a user can fix by changing an input.

Every error the product raises for bad input — a YAML key, a raw export, a week, a labelled
sheet — is a ``PipelineError``; its message (Russian) says what was found, where, and what was
expected. The CLI prints it without a traceback and exits with 2. Subclasses also keep the
builtin base they had (``ValueError``, ``RuntimeError``) so existing ``except`` clauses hold.
This module imports nothing from the package: every layer may raise from it.
"""


class PipelineError(Exception):
    """An input the user can fix; the message says what, where and how."""


USER_ERRORS: tuple[type[Exception], ...] = (PipelineError,)
