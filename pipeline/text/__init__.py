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
personal data (phones, e-mails, card, passport, account, SNILS and INN numbers, street
addresses, full names) with labels such as ``[телефон]``; ingest stores texts masked, reports
and notebooks mask again what they show. ``normalize`` reads the labels as its placeholders.

Modules: ``patterns`` (shared regular expressions), ``normalize``, ``lemmatizer``, ``mask``;
the names below are the package's public API. Nothing here downloads data: tokenisation is
one regular expression (``patterns.TOKEN_PATTERN``) and the stop-word list ships in
``pipeline/text/stopwords_ru.txt``.
"""

from pipeline.text.lemmatizer import (
    CacheInfo,
    Lemmatizer,
    attach_negations,
    build_morph_analyzer,
    dawg_extension_available,
    load_stopwords,
)
from pipeline.text.mask import PERSONAL_DATA_LABELS, mask_column, mask_personal_data
from pipeline.text.normalize import normalize, tokenize
from pipeline.text.patterns import (
    AGENT_SHORTHAND,
    NEGATION_JOINER,
    NEGATIONS,
    PLACEHOLDERS,
    STOPWORDS_RESOURCE,
    TOKEN_PATTERN,
)

__all__ = [
    "AGENT_SHORTHAND",
    "NEGATIONS",
    "NEGATION_JOINER",
    "PERSONAL_DATA_LABELS",
    "PLACEHOLDERS",
    "STOPWORDS_RESOURCE",
    "TOKEN_PATTERN",
    "CacheInfo",
    "Lemmatizer",
    "attach_negations",
    "build_morph_analyzer",
    "dawg_extension_available",
    "load_stopwords",
    "mask_column",
    "mask_personal_data",
    "normalize",
    "tokenize",
]
