"""Delimited text (CSV, TSV) to records by physical line, and the delimiter rule.

The csv module's quoting holds, with one exception. A field that opens with ``"`` and is
never closed (an operator typed «"Карта не пришла» without the closing quote) makes the csv
module read on across line ends until some later quote, so the following rows vanish into one
field — into a malformed row, or into the text of a row that is then accepted. A record that
runs across line ends is therefore checked: when a line it swallowed looks like a row of the
file itself (the header's number of fields and a first field shaped like the record's own,
``RQ-17`` like ``RQ-16``), or when the quote is still open at the end of the file, the
record's first line is read on its own with the unclosed quote taken as text, and reading
resumes at the next physical line. A text with line breaks inside properly closed quotes stays
one record. Records keep the physical line they start on (the header is line 1).

``tables.split_delimited`` turns the records into a ``Table``.
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass

DELIMITERS = (",", ";", "\t", "|")

# a complaint pasted with its whole e-mail thread can exceed csv's 128 KB default per field
MAX_FIELD_CHARS = 16 * 1024 * 1024
csv.field_size_limit(MAX_FIELD_CHARS)


def first_line(text: str) -> str:
    return text.split("\n", 1)[0].rstrip("\r")


def detect_delimiter(
    line: str,
    delimiters: Iterable[str] = DELIMITERS,
    known: Callable[[list[str]], int] | None = None,
) -> str | None:
    """The delimiter under which ``line`` (the first line) reads as the best header.

    With ``known`` (how many of a header's names the caller recognises) the best header has the
    most recognised names, and there is none (``None``) when no delimiter gives any; without
    it, the header with the most columns wins. Ties go to the delimiter listed first.
    """
    score = known or len
    best, best_score = None, 0
    for delimiter in delimiters:
        found = score(next(csv.reader([line], delimiter=delimiter), []))
        if found > best_score:
            best, best_score = delimiter, found
    return best


@dataclass(frozen=True)
class CsvRecord:
    """One record: the physical line it starts on, its fields, its text as written.
    ``unclosed_quote``: the line was read on its own, its unclosed quote taken as text."""

    line: int
    fields: list[str]
    raw: str
    unclosed_quote: bool = False


class DelimitedText:
    """The physical lines of a text (ended by LF, CRLF or CR, as the csv module sees them) and
    a position the csv reader reads from, so that reading can resume at any line."""

    def __init__(self, text: str, delimiter: str):
        self.lines = list(io.StringIO(text, newline=""))
        self.delimiter = delimiter
        self.pos = 0  # lines read so far: the line number of the last line read

    def __iter__(self) -> DelimitedText:
        return self

    def __next__(self) -> str:
        if self.pos >= len(self.lines):
            raise StopIteration
        self.pos += 1
        return self.lines[self.pos - 1]

    def header(self) -> CsvRecord:
        """The first line's record. A quote in it that swallows the lines after it (they read
        as rows: as many fields, or the quote still open at the end of the file) leaves the
        header its first line, the quote dropped from the name it opened."""
        fields = next(csv.reader(self, delimiter=self.delimiter), [])
        span = self.lines[: self.pos]
        if len(span) < 2:
            return CsvRecord(1, fields, self.delimiter.join(fields))
        first = span[0].rstrip("\r\n")
        names = [name.removeprefix('"') for name in literal_fields(first, self.delimiter)]
        if not self._stray_quote(span, len(names), shape=None):
            return CsvRecord(1, fields, self.delimiter.join(fields))
        self.pos = 1
        return CsvRecord(1, names, first, True)

    def records(self, width: int) -> Iterator[CsvRecord]:
        """The records after the header (``width``: its number of fields)."""
        reader = csv.reader(self, delimiter=self.delimiter)
        while True:
            start = self.pos
            fields = next(reader, None)
            if fields is None:
                return
            span = self.lines[start : self.pos]
            if not self._stray_quote(span, width):
                yield CsvRecord(start + 1, fields, self.delimiter.join(fields))
                continue
            line = span[0].rstrip("\r\n")
            yield CsvRecord(start + 1, literal_fields(line, self.delimiter), line, True)
            self.pos = start + 1  # the swallowed lines are read again as their own rows
            reader = csv.reader(self, delimiter=self.delimiter)

    def _stray_quote(self, span: list[str], width: int, shape: str | None = "") -> bool:
        """Whether a record's quote opened on its first line and never closed properly: it is
        open at the end of the file, or a line it swallowed reads as a row (``width`` fields,
        the first shaped like the record's own; any first field for ``shape=None``)."""
        if self.pos == len(self.lines) and open_quote_at_end("".join(span), self.delimiter):
            return True
        if len(span) < 2 or width < 2:
            return False
        if shape == "":
            first = literal_fields(span[0].rstrip("\r\n"), self.delimiter)[0]
            if not id_like(first):
                # a first column of free text (a labelled sheet: text, label) has no shape to
                # tell a swallowed row from the next line of a quoted multi-line text
                return False
            shape = id_shape(first)
        return any(self._looks_like_row(line, width, shape) for line in span[1:])

    def _looks_like_row(self, line: str, width: int, shape: str | None) -> bool:
        fields = literal_fields(line.rstrip("\r\n"), self.delimiter)
        while len(fields) > width and not fields[-1].strip():
            fields.pop()  # trailing delimiters, common in exports
        return len(fields) == width and (shape is None or id_shape(fields[0]) == shape)


def id_like(value: str) -> bool:
    """A first field that can be an id or a time: short, with a digit, at most two words
    (``RQ-17``, ``2948002``, ``2026-11-02 14:05``; not ``3 дня жду``, not ``сгнил отлив``)."""
    value = value.strip().strip('"')
    return len(value) <= 40 and any(c.isdigit() for c in value) and len(value.split()) <= 2


def id_shape(value: str) -> str:
    """A first field's shape: runs of letters -> a, of digits -> 9 (``RQ-17`` -> ``a-9``)."""
    value = value.strip().strip('"')
    return re.sub(r"\d+", "9", re.sub(r"[^\W\d_]+", "a", value))


def literal_fields(line: str, delimiter: str) -> list[str]:
    """One line's fields: a field in closed quotes is unquoted (``""`` -> ``"``); a quote that
    opens a field but does not close on this line is text, up to the next delimiter."""
    fields, pos = [], 0
    while True:
        if line.startswith('"', pos):
            close = _closing_quote(line, pos + 1, delimiter)
            if close is not None:
                fields.append(line[pos + 1 : close].replace('""', '"'))
                if close + 1 >= len(line):
                    return fields
                pos = close + 1 + len(delimiter)
                continue
        end = line.find(delimiter, pos)
        if end < 0:
            fields.append(line[pos:])
            return fields
        fields.append(line[pos:end])
        pos = end + len(delimiter)


def _closing_quote(line: str, start: int, delimiter: str) -> int | None:
    """The quote after ``start`` that ends a quoted field (followed by the delimiter or the end
    of the line, not doubled), or None."""
    at = line.find('"', start)
    while at >= 0:
        if line.startswith('""', at):
            at = line.find('"', at + 2)
        elif at + 1 == len(line) or line.startswith(delimiter, at + 1):
            return at
        else:
            at = line.find('"', at + 1)
    return None


def open_quote_at_end(text: str, delimiter: str) -> bool:
    """Whether a quoted field is still open at the end of ``text`` (the csv module's states,
    non-strict: a quote only opens a field at its start)."""
    state = "start"
    for char in text:
        if state == "quoted":
            state = "quote" if char == '"' else "quoted"
        elif char == delimiter or char in "\r\n":
            state = "start"
        elif state == "quote":
            state = "quoted" if char == '"' else "field"
        elif state == "start":
            state = "quoted" if char == '"' else "field"
    return state == "quoted"
