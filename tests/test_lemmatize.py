"""The lemmatize stage: one pass per distinct text; a cache that outlives weeks, not code."""

from __future__ import annotations

import pandas as pd

from pipeline.text import Lemmatizer
from pipeline.text.batch import (
    lemmatize_frame,
    lemmatizer_fingerprint,
    load_cache,
    save_cache,
)


def _contacts(texts: list[str | None]) -> pd.DataFrame:
    return pd.DataFrame({"contact_id": [f"C{i}" for i in range(len(texts))], "text": texts})


def test_every_contact_keeps_its_row_and_empty_text_is_marked() -> None:
    contacts = _contacts(["Не приходят смс-коды", None, "  ", "Не приходят смс-коды"])
    frame = lemmatize_frame(contacts, Lemmatizer())
    assert list(frame["contact_id"]) == ["C0", "C1", "C2", "C3"]
    assert list(frame["has_text"]) == [True, False, False, True]
    assert frame.loc[0, "lemmas"] == frame.loc[3, "lemmas"] == "не_приходить смс-код"
    assert list(frame["n_tokens"]) == [2, 0, 0, 2]


def test_next_week_only_parses_tokens_it_has_not_seen(tmp_path) -> None:
    cache_path = tmp_path / "lemma_cache.parquet"
    fingerprint = lemmatizer_fingerprint()
    week1 = Lemmatizer()
    lemmatize_frame(_contacts(["Карта не пришла, жду уже неделю"]), week1)
    save_cache(week1.cache, cache_path, fingerprint)

    week2 = Lemmatizer()
    week2.update_cache(load_cache(cache_path, fingerprint))
    lemmatize_frame(_contacts(["Карта не пришла", "жду перевод"]), week2)
    # "карта", "не", "пришла", "жду" come from the cache; only "перевод" is new
    assert week2.cache_info().misses == 1


def test_cache_from_another_lemmatiser_is_discarded(tmp_path) -> None:
    cache_path = tmp_path / "lemma_cache.parquet"
    save_cache({"пришла": "придти-устаревшее"}, cache_path, "old-fingerprint")
    assert load_cache(cache_path, lemmatizer_fingerprint()) == {}
    assert load_cache(cache_path, "old-fingerprint") == {"пришла": "придти-устаревшее"}
