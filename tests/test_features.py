"""Feature blocks: per-word character n-grams equal sklearn's char_wb TF-IDF, only faster; mean
word vectors place synonyms together and enter the model with a weight chosen by CV."""

from __future__ import annotations

import numpy as np
import pytest
from sklearn.feature_extraction.text import TfidfVectorizer

from pipeline.model.build import build_pipeline, model_input
from pipeline.model.explain import VECTOR_BLOCKS, _class_weights, explain
from pipeline.model.features import WordCharTfidf, WordVectorMean, word_ngrams
from pipeline.model.reason_model import decide

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


# --- word vectors ------------------------------------------------------------------------------


def test_word_vectors_put_synonyms_near_each_other_and_unknown_text_at_zero() -> None:
    vectors = (
        WordVectorMean()
        .fit([])
        .transform(
            [
                "одобрили ипотеку на квартиру",
                "дали жилищный кредит на покупку жилья",
                "не приходит смс код для входа в приложение",
                "щщщ ыыы 12345",  # no known word
                "",
            ]
        )
    )
    assert vectors.shape == (5, 300)
    norms = np.linalg.norm(vectors, axis=1)
    np.testing.assert_allclose(norms[:3], 1.0, atol=1e-5)
    assert norms[3] == norms[4] == 0.0
    # the two mortgage texts share no word, yet are closer to each other than to the app text
    assert vectors[0] @ vectors[1] > vectors[0] @ vectors[2] + 0.1
    assert vectors[0] @ vectors[1] > vectors[1] @ vectors[2] + 0.1


def test_word_vector_weight_is_chosen_by_cv_and_zero_means_unused() -> None:
    """With weight 0 the vector columns get no coefficients; the choice is kept for the record.
    With weight 1 a ridge on the vectors adds to the SVM's decision."""
    texts = {
        "mortgage": [
            "одобрили ипотеку через месяц ожидания",
            "ипотечный кредит так и не выдали",
            "долго рассматривают заявку на ипотеку",
            "отказали в ипотеке без объяснения причин",
            "ипотека: менеджер не отвечает на звонки",
            "ставка по ипотеке выросла после одобрения",
        ],
        "app": [
            "приложение вылетает при входе",
            "не могу войти в мобильный банк",
            "не приходит смс код в приложении",
            "после обновления приложение не открывается",
            "мобильное приложение зависает при оплате",
            "в приложении не отображается баланс",
        ],
    }
    labels = np.array([r for r, items in texts.items() for _ in items])
    X = model_input(
        [t for items in texts.values() for t in items],
        [t for items in texts.values() for t in items],
    )
    for weights, expected in [((0.0,), 0.0), ((1.0,), 1.0)]:
        pipe = build_pipeline(0.05, (1.0,), 2, 0, vector_weights=weights).fit(X, labels)
        model = pipe.named_steps["model"]
        assert model.vector_weight_ == expected
        assert set(model.vector_weight_scores_) == set(weights)
        names = pipe.named_steps["features"].get_feature_names_out()
        is_vector = np.array([n.startswith(VECTOR_BLOCKS) for n in names])
        assert is_vector.sum() == model.vector_columns == 600
        assert is_vector[:600].all()  # first, where ReasonModel scales them
        used = np.abs(_class_weights(pipe)[:, is_vector]).max()
        assert (used == 0) == (expected == 0)
        assert (model.ridge_ is None) == (expected == 0)
        # «Не определено» asks whether a reason's own words claim the contact: the fit score is
        # the SVM's alone, the answer is SVM + weight · ridge
        features = pipe.named_steps["features"].transform(X)
        decision, fit = decide(pipe, X)
        svm_only = model.svm_.decision_function(features[:, 600:]).reshape(-1, 1)
        np.testing.assert_allclose(fit, np.abs(svm_only[:, 0]))  # binary: the winning side
        assert np.allclose(decision, svm_only) == (expected == 0)
        # a mortgage text with none of the training words: the vectors carry it
        unseen = model_input(["жилищный заём на квартиру"], ["жилищный заём на квартира"])
        if expected:
            assert pipe.predict(unseen)[0] == "mortgage"
        # explanations name words, never vector dimensions
        for term, _ in explain(pipe, X.iloc[[0]]):
            assert not term.startswith("d") or not term[1:].isdigit()
