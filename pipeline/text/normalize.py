"""Normalisation and tokenisation of contact text for the model (placeholders for values
that carry no reason: links, e-mails, phones, cards, sums).
"""

from __future__ import annotations

import html
import re
import unicodedata
from typing import Any

from pipeline.text.mask import PERSONAL_DATA_LABELS
from pipeline.text.names import mask_addresses, mask_names
from pipeline.text.patterns import (
    _ACCOUNT_RE,
    _ALPHANUMERIC_RE,
    _CARD_16_19_RE,
    _CYRILLIC_RE,
    _DATE_RE,
    _DEVICE_FOOTER_RE,
    _DIGIT_RE,
    _DOMAIN_RE,
    _EMAIL_RE,
    _EXOTIC_SPACE_RE,
    _HIDDEN_CLOSE_RES,
    _HIDDEN_OPEN_RE,
    _HTML_BREAK_RE,
    _HTML_TAG_RE,
    _HYPHEN_TABLE,
    _INN_KEYWORD_RE,
    _INVISIBLE_TABLE,
    _LONG_NUMBER_RE,
    _LOOKALIKE_SET,
    _LOOKALIKE_TABLE,
    _LOOKALIKE_WORD_RE,
    _MAIL_HEADER_LINE_RE,
    _NEWLINE_RE,
    _PASSPORT_BARE_RE,
    _PASSPORT_KEYWORD_RE,
    _PHONE_INTL_RE,
    _PHONE_LOCAL_RE,
    _PHONE_RU_RE,
    _QUOTE_MARKS_RE,
    _QUOTED_LINE_RE,
    _REPEATED_LETTER_RE,
    _REPEATED_PUNCT_RE,
    _REPLY_CUTS,
    _SIGNOFF_RE,
    _SNILS_KEYWORD_RE,
    _SNILS_RE,
    _SUM_RE,
    _TIME_RE,
    _TOKEN_RE,
    _URL_SCHEME_RE,
    _WHITESPACE_RE,
    ADDRESS_TOKEN,
    CARD_TOKEN,
    EMAIL_TOKEN,
    MIN_PERSONAL_NUMBER_DIGITS,
    NAME_TOKEN,
    PHONE_TOKEN,
    SIGNOFF_MAX_TAIL_CHARS,
    SUM_TOKEN,
    URL_TOKEN,
    _unless_sum,
)

# Labels of text masked at ingest read as the placeholders of the same values; the numbers
# that normalisation drops (passport, account, SNILS, INN) drop with their label.
_LABEL_TOKENS = {label: "" for label in PERSONAL_DATA_LABELS.values()} | {
    PERSONAL_DATA_LABELS["phone"]: PHONE_TOKEN,
    PERSONAL_DATA_LABELS["email"]: EMAIL_TOKEN,
    PERSONAL_DATA_LABELS["card"]: CARD_TOKEN,
    PERSONAL_DATA_LABELS["name"]: NAME_TOKEN,
    PERSONAL_DATA_LABELS["address"]: ADDRESS_TOKEN,
}
_LABEL_RE = re.compile("|".join(map(re.escape, _LABEL_TOKENS)))

# ================================================================================================
# normalize


def normalize(text: Any) -> str:
    """Return lower-case text with markup, quoted replies and personal values replaced.

    >>> normalize("СМС не приходит!!! Звоню на +7 (916) 123-45-67")
    'смс не приходит! звоню на phonetoken'

    Steps: HTML tags and entities; quoted replies, signatures and "sent from my iPhone"
    footers; street addresses, full names, URLs, e-mails, card numbers, phones and sums to
    placeholders (also where ``mask_personal_data`` already left its labels); account,
    passport, SNILS and INN numbers, dates, times and digit runs of 5+ (order and request ids)
    dropped, shorter numbers kept ("3 раза"); Latin look-alikes to Cyrillic; lower case,
    ё -> е; letters and punctuation repeated 3+ times squeezed to one; whitespace collapsed.

    Never raises: anything that is not a ``str`` (None, NaN, numbers) gives ``""``.
    """
    if not isinstance(text, str) or not text:
        return ""
    text = unicodedata.normalize("NFC", text)
    text = text.translate(_INVISIBLE_TABLE).translate(_HYPHEN_TABLE)
    text = _NEWLINE_RE.sub("\n", text)
    text = _strip_html(text)
    text = _EXOTIC_SPACE_RE.sub(" ", text)
    text = _cut_replies(text)
    text = _replace_people(text)
    text = _replace_placeholders(text)
    text = _fix_lookalikes(text)
    text = text.lower().replace("ё", "е")
    text = _REPEATED_LETTER_RE.sub(r"\1", text)
    text = _REPEATED_PUNCT_RE.sub(r"\1", text)
    return _WHITESPACE_RE.sub(" ", text).strip()


def _strip_html(text: str) -> str:
    """Drop tags and decode entities; block tags become line breaks."""
    if "<" not in text and "&" not in text:
        return text
    text = _drop_hidden_elements(text)
    text = _HTML_BREAK_RE.sub("\n", text)
    text = _HTML_TAG_RE.sub(" ", text)
    text = html.unescape(text)
    if "&" in text:
        # Double-escaped exports ("&amp;nbsp;") decode once more.
        text = html.unescape(text)
    # Escaped markup ("&lt;p&gt;") is markup once decoded.
    return _HTML_TAG_RE.sub(" ", text)


def _drop_hidden_elements(text: str) -> str:
    """Remove <script>, <style>, <head>, <blockquote> elements and comments, content included.

    A loop instead of one lazy regex keeps 100 KB of unclosed "<!--" linear; an element
    that is never closed runs to the end of the text.
    """
    parts: list[str] = []
    position = 0
    while True:
        opening = _HIDDEN_OPEN_RE.search(text, position)
        if opening is None:
            parts.append(text[position:])
            break
        parts.append(text[position : opening.start()])
        parts.append("\n")
        closing = _HIDDEN_CLOSE_RES[(opening.group(1) or "").lower()].search(text, opening.end())
        if closing is None:
            break
        position = closing.end()
    return "".join(parts)


def _cut_replies(text: str) -> str:
    """Cut quoted earlier messages, signatures and "sent from my phone" footers."""
    cut = _QUOTED_LINE_RE.sub("", text) if ">" in text else text
    for needed, pattern in _REPLY_CUTS:
        match = pattern.search(cut) if needed in cut else None
        if match:
            cut = cut[: match.start()]
    if cut is not text and not _ALPHANUMERIC_RE.search(cut):
        # A bare forward: the quoted message is all there is; keep it without the quote
        # marks and mail headers.
        cut = _MAIL_HEADER_LINE_RE.sub(" ", _QUOTE_MARKS_RE.sub("", text))
        for _, pattern in _REPLY_CUTS:
            cut = pattern.sub(" ", cut)
    lowered = cut.lower()
    if "уважением" in lowered:
        for match in _SIGNOFF_RE.finditer(cut):
            if len(cut) - match.end() <= SIGNOFF_MAX_TAIL_CHARS:
                cut = cut[: match.start()]
                break
    if "отправлено" in lowered or "sent" in lowered:
        cut = _DEVICE_FOOTER_RE.sub(" ", cut)
    return cut


def _replace_people(text: str) -> str:
    """Masking labels, street addresses and full names to placeholders (case still as
    written: names are found by their capital letter)."""
    if "[" in text:
        text = _LABEL_RE.sub(lambda match: f" {_LABEL_TOKENS[match.group()]} ", text)
    text = mask_addresses(text, f" {ADDRESS_TOKEN} ")
    return mask_names(text, f" {NAME_TOKEN} ")


def _replace_placeholders(text: str) -> str:
    if "." in text or "/" in text:
        text = _URL_SCHEME_RE.sub(f" {URL_TOKEN} ", text)
        if "@" in text:
            text = _EMAIL_RE.sub(f" {EMAIL_TOKEN} ", text)
        text = _DOMAIN_RE.sub(f" {URL_TOKEN} ", text)
    digit_count = len(_DIGIT_RE.findall(text))
    if digit_count == 0:
        return text
    if digit_count >= MIN_PERSONAL_NUMBER_DIGITS:
        text = _ACCOUNT_RE.sub(" ", text)
        text = _SNILS_KEYWORD_RE.sub(r"\1 ", text)
        text = _SNILS_RE.sub(" ", text)
        text = _INN_KEYWORD_RE.sub(r"\1 ", text)
        text = _CARD_16_19_RE.sub(f" {CARD_TOKEN} ", text)
        text = _PASSPORT_KEYWORD_RE.sub(r"\1 ", text)
        text = _PASSPORT_BARE_RE.sub(" ", text)
        for pattern in (_PHONE_RU_RE, _PHONE_INTL_RE, _PHONE_LOCAL_RE):
            text = pattern.sub(_unless_sum(f" {PHONE_TOKEN} "), text)
    text = _SUM_RE.sub(f" {SUM_TOKEN} ", text)
    text = _DATE_RE.sub(" ", text)
    text = _TIME_RE.sub(" ", text)
    return _LONG_NUMBER_RE.sub(" ", text)


def _fix_lookalikes(text: str) -> str:
    """Latin look-alike letters to Cyrillic: "кaрта" -> "карта", "CMC" -> "СМС".

    A word mixing scripts is converted when all its Latin letters have a Cyrillic twin. A purely
    Latin word is converted only when it is upper case, every letter has a twin and the text
    contains Cyrillic ("CMC не приходит"); "mir pay", "iPhone" and "OK" in English text stay.
    """
    if not _CYRILLIC_RE.search(text):
        return text

    def fix(match: re.Match[str]) -> str:
        word = match.group()
        latin = [char for char in word if char.isascii()]
        if not latin or not _LOOKALIKE_SET.issuperset(latin):
            return word
        if len(latin) < len(word) or (len(word) >= 2 and word.isupper()):
            return word.translate(_LOOKALIKE_TABLE)
        return word

    return _LOOKALIKE_WORD_RE.sub(fix, text)


# ================================================================================================
# tokenize


def tokenize(normalized: str) -> list[str]:
    """Split normalised text into word tokens; punctuation and emoji are dropped.

    >>> tokenize("кто-то снял 500 руб с карты!!! 😡")
    ['кто-то', 'снял', '500', 'руб', 'с', 'карты']
    """
    if not isinstance(normalized, str) or not normalized:
        return []
    return _TOKEN_RE.findall(normalized)
