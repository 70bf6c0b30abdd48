"""The per-word character n-gram vectoriser equals sklearn's char_wb TF-IDF, only faster."""

from __future__ import annotations

import numpy as np
import pytest
from sklearn.feature_extraction.text import TfidfVectorizer

from pipeline.features import WordCharTfidf, word_ngrams

TEXTS = [
    "не приходит смс-код для входа в приложение!",
    "кл. не может войти в лк, смс не приходит",
    "карта не пришла уже 2 недели, где моя карта???",
    "я ёжик",  # short words: a padded word shorter than n counts once
    "",
    "приложуха вылетает при оплате по qr-коду, cardtoken списали дважды",
    "Карта КАРТА карта",  # case is kept: the text is normalised before
]


def test_word_ngrams_are_the_padded_windows() -> None:
    assert word_ngrams("код", (2, 3)) == [" к", "ко", "од", "д ", " ко", "код", "од "]
    assert word_ngrams("я", (2, 5)) == [" я", "я ", " я "]


@pytest.mark.parametrize("min_df", [1, 2])
def test_equals_sklearn_char_wb(min_df: int) -> None:
    reference = TfidfVectorizer(
        analyzer="char_wb", ngram_range=(2, 5), lowercase=False, sublinear_tf=True, min_df=min_df
    )
    ours = WordCharTfidf((2, 5), min_df=min_df, sublinear_tf=True)
    expected = reference.fit_transform(TEXTS)
    got = ours.fit_transform(TEXTS)
    assert list(ours.get_feature_names_out()) == list(reference.get_feature_names_out())
    np.testing.assert_allclose(got.toarray(), expected.toarray(), atol=1e-12)
    unseen = ["смс-код не приходит третий день", "новое слово щщщ", ""]
    np.testing.assert_allclose(
        ours.transform(unseen).toarray(), reference.transform(unseen).toarray(), atol=1e-12
    )


def test_fit_then_transform_equals_fit_transform() -> None:
    a = WordCharTfidf(min_df=2).fit(TEXTS).transform(TEXTS)
    b = WordCharTfidf(min_df=2).fit_transform(TEXTS)
    np.testing.assert_allclose(a.toarray(), b.toarray())
