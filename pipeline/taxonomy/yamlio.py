"""reasons.yaml as a round-trip document: comments, order, quoting and folding are kept.

Edits (``pipeline.taxonomy.edits``) parse the file with ruamel, change the parsed document and
dump it again, so a maintainer's comments and hand-wrapped definitions survive a ``rename``.
"""

from __future__ import annotations

import io
import textwrap
from pathlib import Path

from ruamel.yaml import YAML
from ruamel.yaml.comments import CommentedMap
from ruamel.yaml.scalarstring import FoldedScalarString

from pipeline.io import outputs

DEFINITION_WIDTH = 92  # folded definitions are wrapped like the hand-written ones


def _yaml() -> YAML:
    parser = YAML()
    parser.preserve_quotes = True
    parser.width = 4096  # never re-wrap: folded scalars keep their own line breaks
    parser.indent(mapping=2, sequence=4, offset=2)
    parser.representer.ignore_aliases = lambda data: True  # a shared date is no &anchor
    return parser


def parse_document(text: str) -> CommentedMap:
    return _yaml().load(text)


def dump_document(document: CommentedMap) -> str:
    out = io.StringIO()
    _yaml().dump(document, out)
    return out.getvalue()


def folded(text: str) -> FoldedScalarString:
    """A ``>-`` block wrapped at DEFINITION_WIDTH, like the definitions written by hand."""
    text = " ".join(text.split())
    scalar = FoldedScalarString(text)
    positions, offset = [], 0
    for line in textwrap.wrap(text, DEFINITION_WIDTH, break_long_words=False)[:-1]:
        offset += len(line)
        positions.append(offset)
        offset += 1
    scalar.fold_pos = positions
    return scalar


def set_plain(entry: CommentedMap, key: str, value: str) -> None:
    """Set a string letting YAML choose its style (ruamel would keep the old value's quotes)."""
    if key in entry:
        position = list(entry).index(key)
        del entry[key]
        entry.insert(position, key, value)
    else:
        entry[key] = value


def bump_version(version: str) -> str:
    """Add one to the last number: 2026.11.1 -> 2026.11.2; other forms are kept."""
    head, _, last = str(version).rpartition(".")
    return f"{head}.{int(last) + 1}" if head and last.isdigit() else str(version)


def write_atomic(path: Path, content: str, encoding: str = "utf-8") -> None:
    """Write to a hidden temporary file beside the target and rename (``pipeline/io/outputs``):
    a reader never sees half a file, a failure leaves the old one."""
    outputs.write(path, outputs.text(content, encoding))
