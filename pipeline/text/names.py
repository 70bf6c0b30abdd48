"""Full names and street addresses in Russian text, found with pymorphy3's dictionary tags and
address patterns (no model download; the dictionary is the one the lemmatiser already loads).

A capitalised word is a *name word* when its dictionary readings as a first name, surname or
patronymic (grammemes ``Name``, ``Surn``, ``Patr``) carry at least ``STRONG_NAME_SCORE`` of
pymorphy3's probability ("Мария", "Иванова", "Сергеевич"); it is a *possible name word* when they
carry any ("Вера", "Надежда"). Masked as a name:

- a run of two or more capitalised name words or possible name words, at least one of them a
  name word ("Иванова Мария Сергеевна", "Вера Ивановна");
- a name word with initials before or after it ("Петров И.И.", "И. Петров");
- a lone name word ("оператор Анна", "Ольга, помогите");
- a possible name word right after a word that introduces a person ("меня зовут Вера").

Lower-case names ("оператор анна") are not found: they cannot be told from common words.
Addresses: the house, building and flat numbers after a street-type word with its capitalised or
numbered name ("ул. 8 Марта, д. 5, кв. 12" -> "ул. 8 Марта, [адрес]", "Ленинский проспект 12"),
and a house number with a flat number alone ("дом 5 квартира 12"). A street or a city without a
house is a public place, not personal data, and a street named after a person ("ул. Гагарина")
is not a name.
"""

from __future__ import annotations

import re
from functools import lru_cache

import pymorphy3

NAME_LABEL = "[ФИО]"
ADDRESS_LABEL = "[адрес]"
NAME_GRAMMEMES = frozenset({"Name", "Surn", "Patr"})
STRONG_NAME_SCORE = 0.5
# Words after which a capitalised word is a person's name even when it is also a noun.
PERSON_CUES = frozenset(
    {"зовут", "оператор", "оператора", "оператору", "оператором", "менеджер", "менеджера",
     "менеджеру", "сотрудник", "сотрудника", "сотрудница", "сотрудницы", "специалист",
     "специалиста", "консультант", "консультанта", "кассир", "кассира", "курьер", "курьера",
     "мастер", "мастера", "девушка", "девушки", "гражданин", "гражданка", "клиент", "клиентка",
     "фио", "г-н", "г-жа", "уважаемый", "уважаемая"}
)  # fmt: skip

_WORD_RE = re.compile(r"[А-ЯЁ][а-яё]+(?:-[А-ЯЁ][а-яё]+)?(?![\w-])")
_INITIALS_RE = re.compile(r"[А-ЯЁ]\.\s?(?:[А-ЯЁ]\.)?")
_CUE_BEFORE_RE = re.compile(r"([а-яёА-ЯЁ-]+)[\s:,]*$")

# --- addresses ----------------------------------------------------------------------------------

_STREET_TYPE = (
    r"(?:ул(?:иц[аеуыи]|ицей)?|пр-т|пр-кт|просп(?:ект[аеу]?)?|пр|пер(?:еул(?:ок|к[аеу]))?"
    r"|б-р|бульвар[аеу]?|ш(?:оссе)?|наб(?:ережн(?:ая|ой|ую))?|пл(?:ощад(?:ь|и))?"
    r"|проезд[аеу]?|мкр(?:н)?|микрорайон[аеу]?|туп(?:ик[аеу]?)?|аллея|аллее|тракт[аеу]?)"
)
_STREET_NAME = (
    r"(?:\d{1,3}(?:-?(?:я|й|го|ой|ая|ий))?\s+)?[А-ЯЁ][а-яё]+(?:[\s-][А-ЯЁ][а-яё]+){0,2}"
    r"|\d{1,3}-?(?:я|й|го|ой|ая|ий)\b"
)
_HOUSE = (
    r"(?:(?:д(?:ом[аеу]?)?\.?\s*№?\s*)?\d{1,4}[а-яё]?(?:/\d{1,4})?(?![\d.,]\d))"
    r"(?:,?\s*(?:к(?:орп(?:ус)?)?\.?|стр(?:оение)?\.?)\s*\d{1,3})?"
    r"(?:,?\s*(?:кв(?:артир[аеуы])?\.?|оф(?:ис)?\.?)\s*\d{1,4})?"
)
_ADDRESS_RE = re.compile(
    rf"(?<![\w-])(?P<street>(?i:{_STREET_TYPE})\.?\s+(?:{_STREET_NAME})|"
    rf"[А-ЯЁ][а-яё]+(?:ый|ий|ой|ая|ое|ом|ого|ому|ую)\s+"
    rf"(?:проспект[аеу]?|шоссе|переул(?:ок|к[аеу])|бульвар[аеу]?|проезд[аеу]?|улиц[аеуы]))"
    rf"(?:(?P<sep>,?\s*)(?P<house>{_HOUSE}))?(?![\w])"
)
# a street's name is a place, not a person ("ул. Гагарина", "ул. Володи Головатого")
_STREET_BEFORE_RE = re.compile(
    rf"(?<![\w-])(?i:{_STREET_TYPE})\.?\s+(?:\d{{1,3}}(?:-?(?:я|й|го|ой|ая|ий))?\s+)?"
    rf"(?:[А-ЯЁ][а-яё]+[\s-])?$"
)
_HOUSE_AND_FLAT_RE = re.compile(
    r"(?<![\w-])(?i:д(?:ом[аеу]?)?\.?)\s*№?\s*\d{1,4}[а-яё]?(?:/\d{1,4})?"
    r"(?:,?\s*(?i:к(?:орп(?:ус)?)?\.?|стр(?:оение)?\.?)\s*\d{1,3})?"
    r",?\s*(?i:кв(?:артир[аеуы])?\.?)\s*\d{1,4}(?!\d)"
)


@lru_cache(maxsize=1)
def _analyzer() -> pymorphy3.MorphAnalyzer:
    return pymorphy3.MorphAnalyzer()


@lru_cache(maxsize=200_000)
def name_score(word: str) -> float:
    """pymorphy3's probability that ``word`` is one person's first name, surname or patronymic
    (dictionary words only: the guesser calls unknown brands surnames; singular only: "Юнион"
    is listed as the plural of a rare name)."""
    return sum(
        parse.score
        for parse in _analyzer().parse(word)
        if parse.is_known
        and "sing" in parse.tag.grammemes
        and not NAME_GRAMMEMES.isdisjoint(parse.tag.grammemes)
    )


def mask_addresses(text: str, label: str = ADDRESS_LABEL) -> str:
    """Replace the house, building and flat numbers of street addresses with ``label``; the
    street itself is a public place and stays ("ул. Ленина, [адрес]")."""

    def replace(match: re.Match[str]) -> str:
        if match.group("house") is None:
            return match.group()
        return match.group("street") + match.group("sep") + label

    text = _ADDRESS_RE.sub(replace, text)
    return _HOUSE_AND_FLAT_RE.sub(label, text)


def mask_names(text: str, label: str = NAME_LABEL) -> str:
    """Replace full names (see the module docstring) with ``label``."""
    words = [
        (match.start(), match.end(), name_score(match.group()))
        for match in _WORD_RE.finditer(text)
    ]
    words = [word for word in words if word[2] > 0]
    if not words:
        return text
    spans = _name_spans(text, words)
    for start, end in reversed(spans):
        text = text[:start] + label + text[end:]
    return text


def _name_spans(text: str, words: list[tuple[int, int, float]]) -> list[tuple[int, int]]:
    spans: list[tuple[int, int]] = []
    run: list[tuple[int, int, float]] = []
    for word in words:
        if run and text[run[-1][1] : word[0]].strip(" ") == "":
            run.append(word)
            continue
        spans.extend(_run_span(text, run))
        run = [word]
    spans.extend(_run_span(text, run))
    return spans


def _run_span(text: str, run: list[tuple[int, int, float]]) -> list[tuple[int, int]]:
    """The span a run of adjacent capitalised words masks, with initials around it."""
    if not run:
        return []
    start, end = run[0][0], run[-1][1]
    strong = max(score for _, _, score in run) >= STRONG_NAME_SCORE
    if len(run) == 1 and not strong and not _after_person_cue(text, start):
        return []
    if len(run) > 1 and not strong:
        return []
    if _STREET_BEFORE_RE.search(text, max(0, start - 40), start):
        return []
    after = _INITIALS_RE.match(text, end + 1) if text[end : end + 1] == " " else None
    if after:
        end = after.end()
    before = re.search(r"(?:[А-ЯЁ]\.\s?){1,2}$", text[max(0, start - 6) : start].rstrip(" "))
    if before and text[max(0, start - 6) : start].endswith(" "):
        start = max(0, start - 6) + before.start()
    return [(start, end)]


def _after_person_cue(text: str, start: int) -> bool:
    cue = _CUE_BEFORE_RE.search(text[max(0, start - 30) : start])
    return bool(cue) and cue.group(1).lower() in PERSON_CUES
