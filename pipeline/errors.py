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


# --- many rows with the same problem: a count, the first few and the likely cause ---------------

SHOWN_ROWS = 5


class RowProblem:
    """One row's problem: where it is, what kind (rows are grouped on it), the value found."""

    __slots__ = ("value", "what", "where")

    def __init__(self, where: str, what: str, value: str | None = None) -> None:
        self.where, self.what, self.value = where, what, value


def summarise_rows(
    problems: list[RowProblem], causes: dict[str, str] | None = None, shown: int = SHOWN_ROWS
) -> str:
    """One item per kind of problem: a single row as ``where: what 'value'``; several as how
    many rows, the first ``shown`` of them with the value found and how many distinct values;
    then the likely cause (``causes[what]``) when known. The result starts with a line break
    and is meant to follow a heading ending in ``:``."""
    groups: dict[str, list[RowProblem]] = {}
    for problem in problems:
        groups.setdefault(problem.what, []).append(problem)
    items = []
    for what, rows in groups.items():
        if len(rows) == 1:
            found = "" if rows[0].value is None else f" '{terminal_safe(rows[0].value)}'"
            item = f"{rows[0].where}: {what}{found}"
        else:
            first = "; ".join(
                p.where if p.value is None else f"{p.where}: '{terminal_safe(p.value)}'"
                for p in rows[:shown]
            )
            more = f"; … и ещё {len(rows) - shown}" if len(rows) > shown else ""
            values = {p.value for p in rows if p.value is not None}
            distinct = f", разных значений {len(values)}" if len(values) > 1 else ""
            item = f"{what} — строк: {len(rows)}{distinct} ({first}{more})"
        cause = (causes or {}).get(what)
        items.append(item + (f"\n    вероятная причина: {cause}" if cause else ""))
    return "".join(f"\n  - {item}" for item in items)
