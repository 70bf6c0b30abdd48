"""Bytes to text for the table reader (``tables``): one encoding rule.

UTF-16 is recognised by its BOM or, without one, by its NUL bytes; otherwise the first listed
encoding that decodes the whole file wins (UTF-8, then Windows-1251 as Excel saves it), a
Windows-1251 file with some UTF-8 lines is read line by line, and bare-CR line ends become LF.
When nothing fits, the message names each encoding tried with the line and byte it failed on.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from pathlib import Path

from pipeline.errors import PipelineError

ENCODINGS = ("utf-8-sig", "cp1251")
ENCODING_FIX = "сохраните файл в UTF-8 или Windows-1251"


class TableError(PipelineError):
    """A file cannot be read as a table at all; the message names the file and the cause."""


def read_bytes(path: Path) -> bytes:
    try:
        return Path(path).read_bytes()
    except OSError as exc:
        raise TableError(f"{path}: файл не читается ({exc.strerror})") from exc


def decode(
    data: bytes, path: Path, encodings: Iterable[str] = ENCODINGS, fix: str = ENCODING_FIX
) -> tuple[str, str]:
    """Decode a whole file with the first encoding that fits; UTF-16 is recognised by its BOM.

    ``fix`` is the advice when none fits (the ingest stage adds its params.yaml setting).
    """
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        return _line_ends(data.decode("utf-16")), "utf-16"
    guessed = _utf16_without_bom(data)
    if guessed:
        try:
            return _line_ends(data.decode(guessed)), guessed
        except UnicodeDecodeError:
            pass
    tried = []
    for encoding in encodings:
        try:
            text = data.decode(encoding)
        except UnicodeDecodeError as exc:
            tried.append(f"{encoding} ({_undecodable(data, exc.start)})")
            continue
        except LookupError:
            tried.append(f"{encoding} (неизвестная кодировка)")
            continue
        if not _is_utf8(encoding):
            mixed = _mixed_with_utf8(data, encoding)
            if mixed is not None:
                return _line_ends(mixed), f"utf-8+{encoding}"
        if _is_utf8(encoding) and data.startswith(b"\xef\xbb\xbf"):
            text = text.lstrip("\ufeff")
        return _line_ends(text), encoding
    raise TableError(
        f"{path}: не удалось определить кодировку: пробовали {', '.join(tried)}; {fix}"
    )


def _undecodable(data: bytes, start: int) -> str:
    """Where an encoding fails: the line (ended by LF, CRLF or CR) and the byte."""
    line = len(re.findall(rb"\r\n|\r|\n", data[:start])) + 1
    return f"строка {line}: байт 0x{data[start]:02x} не читается"


def _is_utf8(encoding: str) -> bool:
    return encoding.replace("-", "").replace("_", "").lower().startswith("utf8")


def _mixed_with_utf8(data: bytes, fallback: str) -> str | None:
    """A file appended to by two systems, some lines UTF-8 and some in ``fallback`` (cp1251):
    each line decoded in the encoding it is in, so neither half turns into «РєР°СЂС‚Р°». None
    when no line is non-ASCII UTF-8 (a plain ``fallback`` file: decode it whole)."""
    lines = data.split(b"\n")
    decoded, utf8_lines = [], 0
    for line in lines:
        try:
            text = line.decode("utf-8")
            utf8_lines += not line.isascii()
        except UnicodeDecodeError:
            text = line.decode(fallback)
        decoded.append(text)
    if not utf8_lines:
        return None
    return "\n".join(decoded).lstrip("\ufeff")


def _utf16_without_bom(data: bytes) -> str | None:
    """``utf-16-le`` / ``utf-16-be`` when the bytes look like UTF-16 text without a BOM (every
    other byte of Latin and Cyrillic text is the same high byte, often NUL), else None."""
    sample = data[:4000]
    if len(sample) < 4 or b"\x00" not in sample:
        return None
    even, odd = sample[0::2], sample[1::2]
    if odd.count(0) > 0.3 * len(odd) and even.count(0) < 0.05 * len(even):
        return "utf-16-le"
    if even.count(0) > 0.3 * len(even) and odd.count(0) < 0.05 * len(odd):
        return "utf-16-be"
    return None


def _line_ends(text: str) -> str:
    """A file whose lines end in a bare CR (old Mac exports) gets LF line ends; files with LF
    or CRLF are left as they are (a CR inside a quoted cell is the client's text)."""
    if "\r" in text and "\n" not in text:
        return text.replace("\r", "\n")
    return text


# --- text to rows --------------------------------------------------------------------------------
