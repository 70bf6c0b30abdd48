"""Russian contact text: normalise, tokenise, lemmatise, and mask personal data for display.

The lemma chain used for features is::

    normalize -> tokenize -> Lemmatizer.lemma -> attach negations -> drop stop-words

``normalize`` turns raw client or agent text into lower-case Cyrillic-first text with
placeholders (``urltoken``, ``emailtoken``, ``phonetoken``, ``cardtoken``, ``sumtoken``) for
things whose value does not matter for the contact reason. ``Lemmatizer`` wraps one pymorphy3
``MorphAnalyzer`` plus a token -> lemma cache; build it once per process and pass it in.
Negation particles stay glued to the word they negate ("СМС не приходит" -> "смс не_приходить")
because "СМС приходит" and "СМС не приходит" are different reasons.

``mask_personal_data`` is separate: it keeps the client's text as written and only replaces
phones, e-mails, card, passport and account numbers, for showing texts in reports.

Nothing here downloads data: tokenisation uses nltk's ``RegexpTokenizer`` and the stop-word list
ships in ``pipeline/text/stopwords_ru.txt``.
"""

from __future__ import annotations

import html
import logging
import re
import unicodedata
from collections.abc import Callable, Iterable, Mapping
from importlib import resources
from pathlib import Path
from typing import Any, NamedTuple

import pymorphy3
import pymorphy3.dawg
from nltk.tokenize import RegexpTokenizer

logger = logging.getLogger(__name__)

# --- placeholders -------------------------------------------------------------------------------

URL_TOKEN = "urltoken"
EMAIL_TOKEN = "emailtoken"
PHONE_TOKEN = "phonetoken"
CARD_TOKEN = "cardtoken"
SUM_TOKEN = "sumtoken"
PLACEHOLDERS = frozenset({URL_TOKEN, EMAIL_TOKEN, PHONE_TOKEN, CARD_TOKEN, SUM_TOKEN})

# --- negation and lemma-level constants ---------------------------------------------------------

NEGATIONS = frozenset({"не", "нет", "ни", "без"})
# Particles glued to the next content word; "нет" and "без" stay tokens of their own.
NEGATION_PARTICLES = frozenset({"не", "ни"})
NEGATION_JOINER = "_"
# Words a particle reaches past ("не на ту карту" -> "не_карта"), at most MAX_NEGATION_GAP
# of them; any other word is the negated one, stop-words included ("не могу" -> "не_мочь").
NEGATION_TRANSPARENT = frozenset(
    {"в", "на", "с", "к", "по", "за", "из", "у", "о", "от", "до", "для", "при", "про", "через"}
    | {"под", "над", "тот", "этот", "такой", "свой", "мой", "наш", "ваш", "сам"}
)
MAX_NEGATION_GAP = 2

# Agent shorthand pymorphy3 does not know or gets wrong ("тел" -> "тело").
AGENT_SHORTHAND = {
    "кл": "клиент",
    "клт": "клиент",
    "кл-т": "клиент",
    "тел": "телефон",
    "моб": "мобильный",
    "прил": "приложение",
    "заблок": "заблокировать",
    "разблок": "разблокировать",
}
# Forms whose first pymorphy3 parse is wrong in complaint text: "деньги не пришли" is
# "прийти", not the imperative of "прислать"; "счет снят" is "снять", not "снятой".
COMPLAINT_READINGS = {"пришли": "прийти", "снят": "снять"}
_TOKEN_LEMMAS = {**AGENT_SHORTHAND, **COMPLAINT_READINGS}
# pymorphy3 normal forms that read badly in reports ("деньги" -> "деньга").
LEMMA_OVERRIDES = {"деньга": "деньги"}
# Greeting phrases (as lemmas) dropped as a whole, so "день" alone survives ("3 дня жду").
GREETING_PHRASES = (
    ("добрый", "день"),
    ("добрый", "вечер"),
    ("добрый", "утро"),
    ("добрый", "время", "сутки"),
)
_GREETING_STARTS = frozenset(phrase[0] for phrase in GREETING_PHRASES)

STOPWORDS_RESOURCE = "stopwords_ru.txt"

# --- character classes --------------------------------------------------------------------------

# Latin letters that look like Cyrillic ones, mapped to the Cyrillic letter they imitate.
LATIN_LOOKALIKES = "aeopcxykmtbhAEOPCXYKMTBH"
CYRILLIC_TWINS = "аеорсхукмтвнАЕОРСХУКМТВН"
_LOOKALIKE_TABLE = str.maketrans(LATIN_LOOKALIKES, CYRILLIC_TWINS)
_LOOKALIKE_SET = frozenset(LATIN_LOOKALIKES)

# Zero-width characters and the soft hyphen split words invisibly ("кар\u00adта").
_INVISIBLE_TABLE = dict.fromkeys(map(ord, "\u00ad\u200b\u200c\u200d\u2060\ufeff"), None)
# Control characters and exotic spaces become plain spaces (newlines are kept for reply cutting).
_EXOTIC_SPACE_RE = re.compile(
    r"[\x00-\x09\x0b-\x1f\x7f\u00a0\u1680\u2000-\u200a\u202f\u205f\u3000]"
)
_NEWLINE_RE = re.compile(r"\r\n?|[\u2028\u2029\x85]")
_HYPHEN_TABLE = str.maketrans({"\u2010": "-", "\u2011": "-"})

# --- HTML ---------------------------------------------------------------------------------------

# Elements whose content is not the client's message; <blockquote> holds the quoted reply.
_HIDDEN_OPEN_RE = re.compile(r"<(script|style|head|blockquote)\b[^<>]*>|<!--", re.IGNORECASE)
_HIDDEN_CLOSE_RES = {
    name: re.compile(rf"</{name}\s*>", re.IGNORECASE)
    for name in ("script", "style", "head", "blockquote")
} | {"": re.compile(r"-->")}
_HTML_BREAK_RE = re.compile(r"<(?:br|/?p|/?div|/?li|/?tr|/?h[1-6]|hr)\b[^<>]*>", re.IGNORECASE)
# A tag needs a name right after "<", so "<ivan@mail.ru>" and "сумма < 500 >" are not tags.
_HTML_TAG_RE = re.compile(r"</?[a-zA-Z][a-zA-Z0-9:-]*(?:\s[^<>]*)?/?>|<![^<>]*>")

# --- quoted replies and signatures --------------------------------------------------------------

_QUOTED_LINE_RE = re.compile(r"^[ \t]*>.*$", re.MULTILINE)
_QUOTE_MARKS_RE = re.compile(r"^[ \t>]+", re.MULTILINE)
_MAIL_HEADER_LINE_RE = re.compile(
    r"^[ \t]*(?:from|to|cc|subject|sent|date|от|кому|копия|тема|отправлено|дата)[ \t]*:.*$",
    re.IGNORECASE | re.MULTILINE,
)
# Everything after one of these belongs to an earlier message or a signature. Each pattern
# comes with a substring it needs, to skip the search on the usual one-line contact.
_REPLY_CUTS = (
    (
        "---",
        re.compile(
            r"(?<!-)-{3,}\s*(?:original message|forwarded message|исходное сообщение|"
            r"пересылаемое сообщение|перенаправленное сообщение)\s*-{3,}",
            re.IGNORECASE,
        ),
    ),
    ("--", re.compile(r"^[ \t]*--[ \t]*$", re.MULTILINE)),
    # "пн, 2 нояб. 2026 г. в 14:05, Иван <ivan@mail.ru>:" and "On ... wrote:" header lines;
    # an HTML export leaves spaces inside the brackets ("< ivan@mail.ru >:").
    (
        ":",
        re.compile(
            r"^[^\n]{0,200}(?:<[ \t]*[^<>\s@]+@[^<>\s]+[ \t]*>|wrote|писал\(а\)|написал\(а\))"
            r"[ \t]*:[ \t]*$",
            re.MULTILINE,
        ),
    ),
    # "06.11.2026 10:12, Иван Петров пишет:" (Thunderbird): a line starting with a date and a
    # time, so "приложение пишет:" in the client's own text is not a cut.
    (
        ":",
        re.compile(
            r"^[ \t]*\d{1,2}\.\d{1,2}\.\d{2,4},?[ \t]+(?:в[ \t]+)?\d{1,2}:\d{2}\b[^\n]{0,100}\s"
            r"(?:пишет|написала?)[ \t]*:[ \t]*$",
            re.MULTILINE,
        ),
    ),
    (
        ":",
        re.compile(
            r"^[ \t]*(?:from|от(?:\s+кого)?)[ \t]*:[^\n]*\n"
            r"[ \t]*(?:sent|date|отправлено|дата)[ \t]*:",
            re.IGNORECASE | re.MULTILINE,
        ),
    ),
)
# "С уважением, Иван" ends a letter only when followed by a capital, line end or text end.
_SIGNOFF_RE = re.compile(
    r"(?<!\w)[сС]\s+(?:уважением|Уважением|УВАЖЕНИЕМ)\b[ \t,.!]*(?=$|\n|[А-ЯЁA-Z])"
)
SIGNOFF_MAX_TAIL_CHARS = 200
_DEVICE_FOOTER_RE = re.compile(
    r"(?:отправлено|sent)\s+(?:с|со|из|from|via|через)\s+(?:моего\s+|my\s+)?"
    r"(?:iphone|ipad|android|samsung|galaxy|huawei|honor|xiaomi|redmi|мобильн\w*|"
    r"почты\s+mail\.ru|mail\.ru|яндекс\S*|outlook)[^\n]{0,60}",
    re.IGNORECASE,
)

# --- personal data and numbers ------------------------------------------------------------------

_URL_SCHEME_RE = re.compile(r"(?:https?://|ftp://|www\.)[^\s<>\"']*[^\s<>\"'.,;:!?)\]]", re.I)
_EMAIL_RE = re.compile(r"(?<![\w.+-])[\w.+-]+@[\w-]+(?:\.[\w-]+)*\.[^\W\d_]{2,}(?!\w)")
_DOMAIN_RE = re.compile(
    r"(?<![\w@.-])(?:[\w-]+\.)+(?:ru|рф|su|com|net|org|info|io|online)\b(?:/[^\s<>\"']*)?",
    re.IGNORECASE,
)
# Russian phones: +7 / 8 / 7 prefix, operator or area code 3xx-9xx, 3-2-2 digits, any of
# spaces, dashes and brackets between groups: "+7 (916) 123-45-67", "89161234567".
_PHONE_RU_RE = re.compile(
    r"(?<![\w+])(?:(?:\+\s?7|8|7)[\s-]?)?\(?[3-9]\d{2}\)?[\s-]?\d{3}[\s-]?\d{2}[\s-]?\d{2}(?!\d)"
)
# Other countries written with "+": "+375 29 123-45-67".
_PHONE_INTL_RE = re.compile(r"(?<![\w+])\+\d{1,3}[\s-]?\(?\d{2,4}\)?(?:[\s-]?\d){5,8}(?!\d)")
# Local form with dashes only: "123-45-67".
_PHONE_LOCAL_RE = re.compile(r"(?<![\d-])\d{3}-\d{2}-\d{2}(?![\d-])")
# The shortest of the numbers below (a local phone "123-45-67"): fewer digits, skip them all.
MIN_PERSONAL_NUMBER_DIGITS = 7
# Features: card numbers of 16-19 digits, groups of 4 or none.
_CARD_16_19_RE = re.compile(r"(?<![\d-])\d{4}(?:[ -]?\d{4}){3}(?:[ -]?\d{1,3})?(?![\d-])")
# Display masking: 13-19 digits, grouped 4-4-4-4(-3), 4-6-4/5 (Amex, Diners) or not at all.
_CARD_13_19_RE = re.compile(
    r"(?<![\d-])(?:\d{4}(?:[ -]\d{4}){3}(?:[ -]?\d{1,3})?|\d{4}[ -]\d{6}[ -]\d{4,5}|\d{13,19})"
    r"(?![\d-])"
)
# Russian account numbers: 20 digits, plain or grouped 5-3-1-4-7 ("40817 810 0 9999 1234567").
_ACCOUNT_RE = re.compile(r"(?<![\d-])\d{5}[ .-]?\d{3}[ .-]?\d[ .-]?\d{4}[ .-]?\d{7}(?![\d-])")
# Passport series + number: "паспорт 4512345678", "серия 45 12 номер 345678".
_PASSPORT_KEYWORD_RE = re.compile(
    r"((?:паспорт\w*|серия)(?:\s+(?:рф|гражданина\s+рф))?[\s:№-]*(?:серия\s*)?)"
    r"\d{2}\s?\d{2}[\s,№-]*(?:номер\s*|№\s*)?\d{6}(?!\d)",
    re.IGNORECASE,
)
_PASSPORT_BARE_RE = re.compile(r"(?<![\d-])\d{2}\s?\d{2}\s\d{6}(?![\d-])")

# Up to trillions in groups of three ("1 500 000"); the bound keeps long digit runs linear.
_NUMBER = r"\d{1,3}(?:\s\d{3}){1,4}(?:[.,]\d{1,2})?|\d+(?:[.,]\d{1,2})?"
_MULTIPLIER = r"тыс(?:яч[аиуе]?)?\.?|т\.?\s?р\.?|млн\.?|миллион\w*|млрд\.?|миллиард\w*"
_CURRENCY = (
    r"руб(?:л(?:ь|я|ей|ю|ем|ям|ями|ях))?\.?|р\.|р(?!\w)|₽|rub\b|rur\b|коп(?:еек|ейки|ейка|\.)?"
    r"|доллар\w*|долл\.?|\$|usd\b|евро\b|eur\b|€"
)
_SUM_RE = re.compile(
    rf"(?<![\w.,])(?:[$€₽]\s?(?:{_NUMBER})"
    rf"|(?:{_NUMBER})\s?(?:(?:{_MULTIPLIER})\s?(?:{_CURRENCY})?|{_CURRENCY})"
    rf"|(?:{_NUMBER})к)(?!\w)",
    re.IGNORECASE,
)
# Sums that phone and card patterns must leave alone: "1 500 000 руб".
_CURRENCY_AFTER_RE = re.compile(rf"\s?(?:{_MULTIPLIER}|{_CURRENCY})(?!\w)", re.IGNORECASE)
_DATE_RE = re.compile(
    r"(?<![\d.])(?:\d{1,2}[./-]\d{1,2}[./-](?:\d{4}|\d{2})|\d{4}-\d{2}-\d{2})(?![\d.])"
)
_TIME_RE = re.compile(r"(?<![\d:])\d{1,2}:\d{2}(?::\d{2})?(?![\d:])")
# Order, contract and request ids carry no reason: drop digit runs of 5 or more.
_LONG_NUMBER_RE = re.compile(r"\d{5,}")

# --- final clean-up -----------------------------------------------------------------------------

# Words with a Latin look-alike letter after an optional Cyrillic start: the only candidates.
_LOOKALIKE_WORD_RE = re.compile(
    rf"(?<![A-Za-zА-Яа-яЁё])(?=[А-Яа-яЁё]*[{LATIN_LOOKALIKES}])[A-Za-zА-Яа-яЁё]+"
)
_ALPHANUMERIC_RE = re.compile(r"[^\W_]")
_DIGIT_RE = re.compile(r"\d")
_CYRILLIC_RE = re.compile(r"[а-яё]", re.IGNORECASE)
_REPEATED_LETTER_RE = re.compile(r"([^\W\d_])\1{2,}")
_REPEATED_PUNCT_RE = re.compile(r"([^\w\s])\1{2,}")
_WHITESPACE_RE = re.compile(r"\s+")

# Words: letters or digits, hyphen-joined parts ("кто-то", "смс-код"); "_" is not a word char.
TOKEN_PATTERN = r"[^\W_]+(?:-[^\W_]+)*"
_TOKENIZER = RegexpTokenizer(TOKEN_PATTERN)


# ================================================================================================
# normalize


def normalize(text: Any) -> str:
    """Return lower-case text with markup, quoted replies and personal values replaced.

    >>> normalize("СМС не приходит!!! Звоню на +7 (916) 123-45-67")
    'смс не приходит! звоню на phonetoken'

    Steps: HTML tags and entities; quoted replies, signatures and "sent from my iPhone"
    footers; URLs, e-mails, card numbers, phones and sums to placeholders; account and passport
    numbers, dates, times and digit runs of 5+ (order and request ids) dropped, shorter numbers
    kept ("3 раза"); Latin look-alikes to Cyrillic; lower case, ё -> е; letters and punctuation
    repeated 3+ times squeezed to one; whitespace collapsed.

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
        text = _CARD_16_19_RE.sub(f" {CARD_TOKEN} ", text)
        text = _PASSPORT_KEYWORD_RE.sub(r"\1 ", text)
        text = _PASSPORT_BARE_RE.sub(" ", text)
        for pattern in (_PHONE_RU_RE, _PHONE_INTL_RE, _PHONE_LOCAL_RE):
            text = pattern.sub(_unless_sum(f" {PHONE_TOKEN} "), text)
    text = _SUM_RE.sub(f" {SUM_TOKEN} ", text)
    text = _DATE_RE.sub(" ", text)
    text = _TIME_RE.sub(" ", text)
    return _LONG_NUMBER_RE.sub(" ", text)


def _unless_sum(replacement: str) -> Callable[[re.Match[str]], str]:
    """Replacement callback that keeps a match followed by a currency ("1 500 000 руб")."""

    def replace(match: re.Match[str]) -> str:
        if _CURRENCY_AFTER_RE.match(match.string, match.end()):
            return match.group()
        return replacement

    return replace


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
    return _TOKENIZER.tokenize(normalized)


# ================================================================================================
# negation and stop-words


def attach_negations(lemmas: Iterable[str]) -> list[str]:
    """Glue "не"/"ни" to the next word: ["не", "мочь", "войти"] -> ["не_мочь", "войти"].

    Prepositions and determiners in ``NEGATION_TRANSPARENT`` are passed over, at most
    ``MAX_NEGATION_GAP`` of them ("не на ту карту" -> "не_карта"), and kept in place for the
    stop-word filter. A particle with no word to take (end of text, a number, a placeholder,
    another negation) stays a token of its own.
    """
    lemmas = list(lemmas)
    if NEGATION_PARTICLES.isdisjoint(lemmas):
        return lemmas
    result: list[str] = []
    particle: str | None = None
    skipped: list[str] = []
    for lemma in lemmas:
        if particle is not None:
            if lemma in NEGATION_TRANSPARENT and len(skipped) < MAX_NEGATION_GAP:
                skipped.append(lemma)
                continue
            if _is_negatable(lemma):
                result.append(f"{particle}{NEGATION_JOINER}{lemma}")
                result.extend(skipped)
                particle, skipped = None, []
                continue
            result.append(particle)
            result.extend(skipped)
            particle, skipped = None, []
        if lemma in NEGATION_PARTICLES:
            particle = lemma
        else:
            result.append(lemma)
    if particle is not None:
        result.append(particle)
        result.extend(skipped)
    return result


def _is_negatable(lemma: str) -> bool:
    return (
        lemma not in NEGATIONS
        and lemma not in NEGATION_TRANSPARENT
        and lemma not in PLACEHOLDERS
        and any(char.isalpha() for char in lemma)
    )


def _drop_greetings(lemmas: list[str]) -> list[str]:
    if _GREETING_STARTS.isdisjoint(lemmas):
        return lemmas
    result: list[str] = []
    index = 0
    while index < len(lemmas):
        for phrase in GREETING_PHRASES:
            if tuple(lemmas[index : index + len(phrase)]) == phrase:
                index += len(phrase)
                break
        else:
            result.append(lemmas[index])
            index += 1
    return result


def load_stopwords(path: str | Path | None = None) -> frozenset[str]:
    """Read a stop-word list: one lemma a line, ``#`` starts a comment.

    Defaults to the list shipped in ``pipeline/text/stopwords_ru.txt``. Negations may not
    be listed: dropping them would merge "приходит" and "не приходит".
    """
    if path is None:
        source = f"pipeline/text/{STOPWORDS_RESOURCE}"
        content = resources.files(__name__).joinpath(STOPWORDS_RESOURCE).read_text("utf-8")
    else:
        source = str(path)
        content = Path(path).read_text(encoding="utf-8")
    words: set[str] = set()
    for line_number, line in enumerate(content.splitlines(), start=1):
        word = line.split("#", 1)[0].strip().lower().replace("ё", "е")
        if not word:
            continue
        if len(word.split()) != 1:
            raise ValueError(
                f"{source}, line {line_number}: {line.strip()!r} is not a single lemma; "
                "write one lemma per line (comments start with '#')"
            )
        words.add(word)
    return _checked_stopwords(words, source)


def _checked_stopwords(words: Iterable[str], source: str) -> frozenset[str]:
    result = frozenset(words)
    negations = sorted(result & NEGATIONS)
    if negations:
        raise ValueError(
            f"{source}: stop-words must not include negations {negations}; remove them so that "
            "'не приходит' stays different from 'приходит'"
        )
    return result


# ================================================================================================
# Lemmatizer


class CacheInfo(NamedTuple):
    hits: int
    misses: int
    size: int


def dawg_extension_available() -> bool:
    """True when pymorphy3 reads its dictionaries with the ``dawg2`` C extension (~7x faster)."""
    return bool(pymorphy3.dawg.EXTENSION_AVAILABLE)


def build_morph_analyzer() -> pymorphy3.MorphAnalyzer:
    """Build the Russian pymorphy3 analyzer (about 1 s); warn if the C extension is missing."""
    analyzer = pymorphy3.MorphAnalyzer(lang="ru")
    if dawg_extension_available():
        logger.debug("pymorphy3 uses the dawg2 C extension")
    else:
        logger.warning(
            "pymorphy3 falls back to the pure-Python DAWG reader, about 7x slower; "
            "install the 'dawg2' package"
        )
    return analyzer


class Lemmatizer:
    """pymorphy3 analyzer + token -> lemma cache + stop-words: the whole lemma chain.

    Build one per process and pass it to the code that needs it. Pickling drops the analyzer
    and rebuilds it on unpickle, keeping the cache, so worker processes start warm.

    >>> lemmatizer = Lemmatizer()
    >>> lemmatizer.lemmatize("СМС не приходит!!!")
    'смс не_приходить'
    """

    def __init__(
        self,
        analyzer: pymorphy3.MorphAnalyzer | None = None,
        stopwords: Iterable[str] | None = None,
    ) -> None:
        if stopwords is None:
            self._stopwords = load_stopwords()
        else:
            self._stopwords = _checked_stopwords(stopwords, "Lemmatizer(stopwords=...)")
        self._analyzer = analyzer if analyzer is not None else build_morph_analyzer()
        self._cache: dict[str, str] = {}
        self._hits = 0
        self._misses = 0

    # --- cache ----------------------------------------------------------------------------------

    @property
    def cache(self) -> dict[str, str]:
        """The live token -> lemma dict (save it to warm the next run)."""
        return self._cache

    @property
    def stopwords(self) -> frozenset[str]:
        return self._stopwords

    def update_cache(self, mapping: Mapping[str, str]) -> None:
        """Preload token -> lemma pairs, e.g. a persistent cache from an earlier run."""
        for token, lemma in mapping.items():
            if not isinstance(token, str) or not isinstance(lemma, str):
                raise TypeError(
                    f"update_cache: entry {token!r} -> {lemma!r} is not str -> str; "
                    "drop empty or non-text rows from the saved cache"
                )
        self._cache.update(mapping)

    def cache_info(self) -> CacheInfo:
        return CacheInfo(hits=self._hits, misses=self._misses, size=len(self._cache))

    # --- lemma chain ----------------------------------------------------------------------------

    def lemma(self, token: str) -> str:
        """Normal form of one token; placeholders and tokens without Cyrillic pass unchanged."""
        cached = self._cache.get(token)
        if cached is not None:
            self._hits += 1
            return cached
        self._misses += 1
        result = self._parse(token)
        self._cache[token] = result
        return result

    def _parse(self, token: str) -> str:
        if token in PLACEHOLDERS or not _CYRILLIC_RE.search(token):
            return token
        word = token.lower().replace("ё", "е")
        if word in _TOKEN_LEMMAS:
            return _TOKEN_LEMMAS[word]
        if "-" in word and not self._analyzer.word_is_known(word):
            # Unknown compounds ("смс-коды", "интернет-банка") inflect their last part only;
            # pymorphy3's guess for the whole word is often wrong ("смс-кода", "интернет-банка").
            head, tail = word.rsplit("-", 1)
            return f"{head}-{self._parse(tail)}" if tail else head
        normal_form = self._analyzer.parse(word)[0].normal_form.replace("ё", "е")
        return LEMMA_OVERRIDES.get(normal_form, normal_form)

    def lemmas(self, text: Any) -> list[str]:
        """The lemma chain as a list: ``"смс не приходит"`` -> ``["смс", "не_приходить"]``."""
        return self._lemmas_of_normalized(normalize(text))

    def _lemmas_of_normalized(self, normalized: str) -> list[str]:
        cache = self._cache
        lemmas = []
        for token in tokenize(normalized):
            lemma = cache.get(token)
            if lemma is None:
                lemma = self.lemma(token)
            else:
                self._hits += 1
            lemmas.append(lemma)
        lemmas = attach_negations(_drop_greetings(lemmas))
        return [lemma for lemma in lemmas if lemma not in self._stopwords]

    def lemmatize(self, text: Any) -> str:
        """The lemma string stored per contact: lemmas joined by single spaces."""
        return " ".join(self.lemmas(text))

    def analyse(self, text: Any) -> tuple[str, str]:
        """``(normalized text, lemma string)`` with one normalisation pass: the classifier reads
        lemma n-grams from the second and character n-grams from the first.

        >>> Lemmatizer().analyse("СМС не приходит!!!")
        ('смс не приходит!', 'смс не_приходить')
        """
        normalized = normalize(text)
        return normalized, " ".join(self._lemmas_of_normalized(normalized))

    # --- pickling -------------------------------------------------------------------------------

    def __getstate__(self) -> dict[str, Any]:
        state = self.__dict__.copy()
        state["_analyzer"] = None
        return state

    def __setstate__(self, state: dict[str, Any]) -> None:
        self.__dict__.update(state)
        self._analyzer = build_morph_analyzer()

    def __repr__(self) -> str:
        info = self.cache_info()
        return (
            f"{type(self).__name__}(stopwords={len(self._stopwords)}, cache_size={info.size}, "
            f"hits={info.hits}, misses={info.misses})"
        )


# ================================================================================================
# mask_personal_data

PERSONAL_DATA_LABELS = {
    "phone": "[телефон]",
    "email": "[e-mail]",
    "card": "[карта]",
    "passport": "[паспорт]",
    "account": "[счёт]",
}


def mask_personal_data(text: Any) -> str:
    """Replace phones, e-mails, card, passport and account numbers for display.

    Keeps everything else as written (case, punctuation, sums, dates):

    >>> mask_personal_data("Карта 4276 3800 1234 5678, звоните 8-916-123-45-67. Сумма 5 000 руб")
    'Карта [карта], звоните [телефон]. Сумма 5 000 руб'

    Not a feature step: use ``normalize`` for text that goes into the model.
    """
    if not isinstance(text, str):
        return ""
    labels = PERSONAL_DATA_LABELS
    text = _EMAIL_RE.sub(labels["email"], text)
    text = _ACCOUNT_RE.sub(labels["account"], text)
    text = _CARD_13_19_RE.sub(_unless_sum(labels["card"]), text)
    text = _PASSPORT_KEYWORD_RE.sub(lambda match: match.group(1) + labels["passport"], text)
    text = _PASSPORT_BARE_RE.sub(labels["passport"], text)
    for pattern in (_PHONE_RU_RE, _PHONE_INTL_RE, _PHONE_LOCAL_RE):
        text = pattern.sub(_unless_sum(labels["phone"]), text)
    return text
