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


# Control characters (except line feed and tab) and bidirectional overrides in a value read
# from an export would act on the analyst's terminal (clear it, recolour it, reorder a line)
# when a message or log line quotes the value: they are printed as escapes instead.
_UNSAFE_FOR_TERMINAL = {
    code: f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}"
    for code in [*range(0x00, 0x09), *range(0x0B, 0x20), *range(0x7F, 0xA0)]
    + [*range(0x202A, 0x202F), *range(0x2066, 0x206A)]
}


def terminal_safe(text: str) -> str:
    """``text`` with control characters shown as escapes: ``"\\x1b[2J"`` prints as text."""
    return text.translate(_UNSAFE_FOR_TERMINAL)
