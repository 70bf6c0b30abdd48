"""Character classes, regular expressions and placeholders shared by normalisation and
masking: a personal-data pattern is written once and used by both.
"""

from __future__ import annotations

import re
from collections.abc import Callable

# --- placeholders -------------------------------------------------------------------------------

URL_TOKEN = "urltoken"
EMAIL_TOKEN = "emailtoken"
PHONE_TOKEN = "phonetoken"
CARD_TOKEN = "cardtoken"
SUM_TOKEN = "sumtoken"
NAME_TOKEN = "nametoken"
ADDRESS_TOKEN = "addresstoken"
PLACEHOLDERS = frozenset(
    {URL_TOKEN, EMAIL_TOKEN, PHONE_TOKEN, CARD_TOKEN, SUM_TOKEN, NAME_TOKEN, ADDRESS_TOKEN}
)

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
            r"^[^\n]{0,200}(?:<[ \t]*(?:[^<>\s@]+@[^<>\s]+|\[e-mail\])[ \t]*>|wrote|писал\(а\)|"
            r"написал\(а\))"
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
    r"((?:паспорт\w*|сери[яиюей])(?:\s+(?:рф|гражданина\s+рф))?[\s:№-]*(?:сери[яиюей]\s*)?)"
    r"\d{2}\s?\d{2}[\s,№-]*(?:номер\s*|№\s*)?\d{6}(?!\d)",
    re.IGNORECASE,
)
_PASSPORT_BARE_RE = re.compile(r"(?<![\d-])\d{2}\s?\d{2}\s\d{6}(?![\d-])")
# SNILS (insurance number): "123-456-789 01" as written on the card, or 11 digits after «СНИЛС»
_SNILS_RE = re.compile(r"(?<![\d-])\d{3}-\d{3}-\d{3}[ -]\d{2}(?![\d-])")
_SNILS_KEYWORD_RE = re.compile(
    r"(снилс\w*[\s:№-]*)\d{3}[\s-]?\d{3}[\s-]?\d{3}[\s-]?\d{2}(?!\d)", re.IGNORECASE
)
# INN (taxpayer number): 10 digits (organisation) or 12 (person) after «ИНН»
_INN_KEYWORD_RE = re.compile(r"(инн[\s:№-]*)(?:\d{12}|\d{10})(?!\d)", re.IGNORECASE)

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
# the standard library's re: 5x faster here than nltk's RegexpTokenizer (the `regex` module,
# 38 % of lemmatize's time on the scale benchmark), and it does not keep an emoji's variation
# selector (U+FE0F) as a word of its own
_TOKEN_RE = re.compile(TOKEN_PATTERN)


def _unless_sum(replacement: str) -> Callable[[re.Match[str]], str]:
    """Replacement callback that keeps a match followed by a currency ("1 500 000 руб")."""

    def replace(match: re.Match[str]) -> str:
        if _CURRENCY_AFTER_RE.match(match.string, match.end()):
            return match.group()
        return replacement

    return replace
