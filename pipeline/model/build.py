"""The unfitted classifier: the feature blocks (lemma TF-IDF, character n-grams, mean word
vectors) and ``ReasonModel`` in one sklearn Pipeline, and the frame it reads."""

from __future__ import annotations

from collections.abc import Sequence

import pandas as pd
from sklearn.compose import ColumnTransformer
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.pipeline import Pipeline

from pipeline.model.features import WordCharTfidf, WordVectorMean
from pipeline.model.reason_model import (
    DEFAULT_CS,
    DEFAULT_SEARCH_MAX_EXAMPLES,
    DEFAULT_UNDEFINED_SHARE,
    DEFAULT_VECTOR_WEIGHTS,
    WORD_PATTERN,
    ReasonModel,
)


def build_features(char_ngrams: bool = True, word_vectors: bool = True) -> ColumnTransformer:
    blocks = []
    if word_vectors:
        # first, so that ReasonModel knows their columns: mean word vectors of the text's words
        # and of its lemmas (a lemma is in the embedding's vocabulary more often than a form)
        blocks += [
            ("vectors", WordVectorMean(), "normalized"),
            ("lemma_vectors", WordVectorMean(), "lemmas"),
        ]
    blocks += [
        (
            "words",
            TfidfVectorizer(
                token_pattern=WORD_PATTERN,
                lowercase=False,
                ngram_range=(1, 2),
                sublinear_tf=True,
                min_df=1,
            ),
            "lemmas",
        ),
    ]
    if char_ngrams:
        # character n-grams of the normalised text (not of the lemma string): endings, stop
        # words and words pymorphy3 does not know ("приложуха", typos) still count
        blocks.append(
            (
                "chars",
                WordCharTfidf(ngram_range=(2, 5), min_df=2, sublinear_tf=True),
                "normalized",
            )
        )
    return ColumnTransformer(blocks, sparse_threshold=1.0)


def build_pipeline(
    undefined_share: float = DEFAULT_UNDEFINED_SHARE,
    Cs: Sequence[float] = DEFAULT_CS,
    cv: int = 3,
    random_state: int = 0,
    char_ngrams: bool = True,
    search_max_examples: int | None = DEFAULT_SEARCH_MAX_EXAMPLES,
    word_vectors: bool = True,
    vector_weights: Sequence[float] = DEFAULT_VECTOR_WEIGHTS,
) -> Pipeline:
    return Pipeline(
        [
            ("features", build_features(char_ngrams, word_vectors)),
            (
                "model",
                ReasonModel(
                    Cs=tuple(Cs),
                    cv=cv,
                    undefined_share=undefined_share,
                    random_state=random_state,
                    search_max_examples=search_max_examples,
                    vector_columns=2 * WordVectorMean.dimensions if word_vectors else 0,
                    vector_weights=tuple(vector_weights),
                ),
            ),
        ]
    )


def model_input(normalized: Sequence[str], lemmas: Sequence[str]) -> pd.DataFrame:
    """The frame the Pipeline reads: normalised texts and their lemma strings, row by row."""
    return pd.DataFrame({"normalized": list(normalized), "lemmas": list(lemmas)})


def analyse_texts(texts: Sequence[str], lemmatizer) -> pd.DataFrame:
    """Raw texts -> the Pipeline's input (what the lemmatize stage stores for each contact)."""
    analysed = [lemmatizer.analyse(text) for text in texts]
    return model_input([a[0] for a in analysed], [a[1] for a in analysed])


def drop_run_specific_state(pipeline: Pipeline) -> Pipeline:
    """Remove what differs between two fits on the same data, so the saved model is the same
    bytes: ``TfidfVectorizer`` keeps the memory address of its stop-word list
    (``_stop_words_id``) and a set of dropped terms (``stop_words_``, introspection only,
    ordered by string hash)."""
    for _, transformer, _ in pipeline.named_steps["features"].transformers_:
        if hasattr(transformer, "_stop_words_id"):
            del transformer._stop_words_id
        if hasattr(transformer, "stop_words_"):
            transformer.stop_words_ = None
    return pipeline
