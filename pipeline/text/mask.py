"""Masking of personal data in text shown to people (reports, notebooks, the warehouse)."""

from __future__ import annotations

from typing import Any

import pandas as pd

from pipeline.text.names import ADDRESS_LABEL, NAME_LABEL, mask_addresses, mask_names
from pipeline.text.patterns import (
    _ACCOUNT_RE,
    _CARD_13_19_RE,
    _DIGIT_RE,
    _EMAIL_RE,
    _INN_KEYWORD_RE,
    _PASSPORT_BARE_RE,
    _PASSPORT_KEYWORD_RE,
    _PHONE_INTL_RE,
    _PHONE_LOCAL_RE,
    _PHONE_RU_RE,
    _SNILS_KEYWORD_RE,
    _SNILS_RE,
    MIN_PERSONAL_NUMBER_DIGITS,
    _unless_sum,
)

# ================================================================================================
# mask_personal_data

PERSONAL_DATA_LABELS = {
    "phone": "[телефон]",
    "email": "[e-mail]",
    "card": "[карта]",
    "passport": "[паспорт]",
    "account": "[счёт]",
    "snils": "[СНИЛС]",
    "inn": "[ИНН]",
    "address": ADDRESS_LABEL,
    "name": NAME_LABEL,
}


def mask_personal_data(text: Any) -> str:
    """Replace phones, e-mails, card, passport, account, SNILS and INN numbers, street
    addresses and full names (``pipeline.text.names``) with the labels above.

    Keeps everything else as written (case, punctuation, sums, dates):

    >>> mask_personal_data("Карта 4276 3800 1234 5678, звоните 8-916-123-45-67. Сумма 5 000 руб")
    'Карта [карта], звоните [телефон]. Сумма 5 000 руб'
    >>> mask_personal_data("Оператор Иванова Мария, ул. Ленина, д. 5, кв. 12")
    'Оператор [ФИО], ул. Ленина, [адрес]'

    Idempotent (masked text stays as it is); ``normalize`` reads the labels as placeholders,
    so features are the same whether a text was masked before or not.
    """
    if not isinstance(text, str):
        return ""
    labels = PERSONAL_DATA_LABELS
    if "@" in text:
        text = _EMAIL_RE.sub(labels["email"], text)
    if len(_DIGIT_RE.findall(text)) >= MIN_PERSONAL_NUMBER_DIGITS:
        text = _mask_numbers(text)
    return mask_names(mask_addresses(text))


def _mask_numbers(text: str) -> str:
    labels = PERSONAL_DATA_LABELS
    text = _ACCOUNT_RE.sub(labels["account"], text)
    text = _SNILS_KEYWORD_RE.sub(lambda match: match.group(1) + labels["snils"], text)
    text = _SNILS_RE.sub(labels["snils"], text)
    text = _INN_KEYWORD_RE.sub(lambda match: match.group(1) + labels["inn"], text)
    text = _CARD_13_19_RE.sub(_unless_sum(labels["card"]), text)
    text = _PASSPORT_KEYWORD_RE.sub(lambda match: match.group(1) + labels["passport"], text)
    text = _PASSPORT_BARE_RE.sub(labels["passport"], text)
    for pattern in (_PHONE_RU_RE, _PHONE_INTL_RE, _PHONE_LOCAL_RE):
        text = pattern.sub(_unless_sum(labels["phone"]), text)
    return text


def mask_column(values: pd.Series) -> pd.Series:
    """``mask_personal_data`` over a column, each distinct text masked once; missing values
    stay missing."""
    distinct = values.dropna().unique()
    masked = dict(zip(distinct, map(mask_personal_data, distinct), strict=True))
    return values.map(masked, na_action="ignore").astype(values.dtype)
