"""Lemmas for the model: pymorphy3 with a token cache, negations glued to the negated word,
greetings and stop-words dropped (the list ships in ``stopwords_ru.txt``).
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Mapping
from importlib import resources
from pathlib import Path
from typing import Any, NamedTuple

import pymorphy3
import pymorphy3.dawg

from pipeline.text.normalize import normalize, tokenize
from pipeline.text.patterns import (
    _CYRILLIC_RE,
    _GREETING_STARTS,
    _TOKEN_LEMMAS,
    GREETING_PHRASES,
    LEMMA_OVERRIDES,
    MAX_NEGATION_GAP,
    NEGATION_JOINER,
    NEGATION_PARTICLES,
    NEGATION_TRANSPARENT,
    NEGATIONS,
    PLACEHOLDERS,
    STOPWORDS_RESOURCE,
)

logger = logging.getLogger(__name__)


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
        content = resources.files(__package__).joinpath(STOPWORDS_RESOURCE).read_text("utf-8")
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
