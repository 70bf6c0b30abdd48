"""Character n-grams within words, computed once per distinct word.

sklearn's ``TfidfVectorizer(analyzer="char_wb")`` builds the n-grams of every word of every
text in Python: on long texts (reviews of 80–250 words) that is most of the training time.
The n-grams of a text are the union of the n-grams of its whitespace-separated words, so
``WordCharTfidf`` counts words per text (one regular expression pass), builds the n-grams of
each *distinct* word once, and gets the n-gram counts of every text as the sparse product
``word counts × word n-grams``. The result equals ``TfidfVectorizer(analyzer="char_wb", ...)``
with the same settings (tests/test_features.py checks it entry by entry), at a fraction of the
cost, because texts repeat words far more often than they bring new ones.
"""

from __future__ import annotations

import functools
import re

import numpy as np
import pandas as pd
import scipy.sparse as sp
from sklearn.base import BaseEstimator, TransformerMixin
from sklearn.feature_extraction.text import CountVectorizer, TfidfTransformer

WORD_PATTERN = r"\S+"  # char_wb splits on whitespace: punctuation stays part of its word


def word_ngrams(word: str, ngram_range: tuple[int, int]) -> list[str]:
    """The char_wb n-grams of one word, as sklearn builds them (the word padded by spaces)."""
    low, high = ngram_range
    padded = f" {word} "
    grams: list[str] = []
    for n in range(low, high + 1):
        windows = len(padded) - n + 1
        if windows <= 1:  # the padded word is not longer than n: sklearn counts it once, stops
            grams.append(padded[:n])
            break
        grams.extend([padded[i : i + n] for i in range(windows)])
    return grams


class WordCharTfidf(TransformerMixin, BaseEstimator):
    """TF-IDF of character n-grams within words (``char_wb``), computed per distinct word.

    Parameters mirror ``TfidfVectorizer``: ``ngram_range``, ``min_df`` (documents an n-gram
    must occur in, an int), ``sublinear_tf``; IDF is smoothed and rows are L2-normalised.
    """

    def __init__(
        self, ngram_range: tuple[int, int] = (2, 5), min_df: int = 1, sublinear_tf: bool = True
    ):
        self.ngram_range = ngram_range
        self.min_df = min_df
        self.sublinear_tf = sublinear_tf

    def _word_counts(self, texts) -> tuple[sp.csr_matrix, np.ndarray]:
        words = CountVectorizer(token_pattern=WORD_PATTERN, lowercase=False)
        counts = words.fit_transform(texts)
        return counts.tocsr(), words.get_feature_names_out()

    def _ngram_matrix(self, words: np.ndarray, grow: bool) -> sp.csr_matrix:
        """words × n-grams counts; columns are new n-grams (``grow``) or the fitted ones."""
        per_word = [word_ngrams(word, self.ngram_range) for word in words]
        rows = np.repeat(np.arange(len(words)), [len(grams) for grams in per_word])
        flat = [gram for grams in per_word for gram in grams]
        if grow:
            columns, self._grams = pd.factorize(pd.Series(flat, dtype=object), sort=False)
            width = len(self._grams)
        else:
            columns = self._lookup.get_indexer(flat)
            known = columns >= 0
            rows, columns = rows[known], columns[known]
            width = len(self._lookup)
        return sp.csr_matrix((np.ones(len(rows)), (rows, columns)), shape=(len(words), width))

    def _counts(self, texts, grow: bool) -> sp.csr_matrix:
        word_counts, words = self._word_counts(texts)
        counts = (word_counts @ self._ngram_matrix(words, grow)).tocsr()
        counts.sum_duplicates()
        return counts

    def fit(self, texts, y=None):
        self.fit_transform(texts)
        return self

    def fit_transform(self, texts, y=None):
        counts = self._counts(list(texts), grow=True)
        grams = np.asarray(self._grams, dtype=object)
        del self._grams
        document_frequency = np.bincount(counts.indices, minlength=counts.shape[1])
        keep = np.flatnonzero(document_frequency >= self.min_df)
        # columns in sorted n-gram order, as TfidfVectorizer orders its vocabulary
        order = keep[np.argsort(grams[keep].astype(str), kind="stable")]
        # fixed-width strings, not Python objects: the pickle is the same bytes on every run
        self.feature_names_ = grams[order].astype(str)
        self.tfidf_ = TfidfTransformer(sublinear_tf=self.sublinear_tf)
        return self.tfidf_.fit_transform(counts[:, order])

    def transform(self, texts):
        self._lookup = pd.Index(self.feature_names_)
        try:
            return self.tfidf_.transform(self._counts(list(texts), grow=False))
        finally:
            del self._lookup

    def get_feature_names_out(self, input_features=None) -> np.ndarray:
        return self.feature_names_.copy()


# --- word vectors --------------------------------------------------------------------------------

# letters and digits: a negated lemma «не_приходить» is looked up as «не» and «приходить»
VECTOR_TOKEN = re.compile(r"[^\W_]+")


@functools.lru_cache(maxsize=1)
def news_embedding():
    """Natasha's Navec news embedding (250 k Russian words and lemmas, 300 dims), shipped inside
    the ``natasha`` wheel: loaded from the installed package, never downloaded."""
    from natasha import NewsEmbedding

    return NewsEmbedding()


class WordVectorMean(TransformerMixin, BaseEstimator):
    """Mean Navec vector of a text's known words, L2-normalised (zeros when none is known).

    A word the labels never showed still lands near its synonyms («ипотека», «жилищный кредит»),
    which TF-IDF cannot do. Each distinct word is looked up once per call. Nothing is learned
    from the labels, so ``fit`` only checks that the embedding loads; the vectors are not
    pickled with the model (the installed ``natasha`` package supplies them).
    """

    dimensions = 300

    def fit(self, texts, y=None):
        news_embedding()
        return self

    def transform(self, texts) -> np.ndarray:
        embedding = news_embedding()
        cache: dict[str, np.ndarray | None] = {}
        rows = np.zeros((len(texts), self.dimensions), dtype=np.float32)
        for row, text in enumerate(texts):
            vectors = []
            for word in VECTOR_TOKEN.findall(str(text).lower()):
                if word not in cache:
                    cache[word] = embedding[word] if word in embedding else None
                if cache[word] is not None:
                    vectors.append(cache[word])
            if vectors:
                mean = np.mean(vectors, axis=0)
                rows[row] = mean / max(float(np.linalg.norm(mean)), 1e-9)
        return rows

    def get_feature_names_out(self, input_features=None) -> np.ndarray:
        return np.asarray([f"d{i}" for i in range(self.dimensions)], dtype=object)
