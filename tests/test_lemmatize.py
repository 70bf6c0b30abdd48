"""The lemmatize stage: one pass per distinct text; a cache that outlives weeks, not code."""

from __future__ import annotations

import os

import pandas as pd
import pytest

from pipeline import lemmatize
from pipeline.io.inputs import InputError
from pipeline.text import Lemmatizer
from pipeline.text.batch import (
    LemmatizeConfig,
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


# --- the stage: inputs named, outputs written together or not at all ----------------------------


def _stage_paths(tmp_path):
    contacts = tmp_path / "interim" / "contacts.parquet"
    contacts.parent.mkdir()
    _contacts(["Карта не пришла", None]).to_parquet(contacts, index=False)
    lemmas, cache = tmp_path / "interim" / "lemmas.parquet", tmp_path / "interim" / "cache.parquet"
    return contacts, lemmas, cache, LemmatizeConfig()


def _temps(folder) -> list[str]:
    return sorted(p.name for p in folder.rglob("*") if ".tmp" in p.name)


def test_a_failing_run_keeps_last_weeks_lemmas_and_cache(tmp_path, monkeypatch) -> None:
    contacts, lemmas, cache, config = _stage_paths(tmp_path)
    lemmatize.main(contacts, lemmas, cache, config)
    before = lemmas.read_bytes(), cache.read_bytes()
    lemmatize.main(contacts, lemmas, cache, config)
    assert (lemmas.read_bytes(), cache.read_bytes()) == before  # a rerun: the same bytes

    def fail(*args, **kwargs):
        raise MemoryError("out of memory mid-way")

    monkeypatch.setattr(lemmatize, "save_cache", fail)  # the lemmas' temp is already written
    with pytest.raises(MemoryError):
        lemmatize.main(contacts, lemmas, cache, config)
    assert (lemmas.read_bytes(), cache.read_bytes()) == before
    assert _temps(tmp_path) == []


def test_missing_or_broken_contacts_name_the_path_and_ingest(tmp_path) -> None:
    contacts, lemmas, cache, config = _stage_paths(tmp_path)
    missing = tmp_path / "nowhere" / "contacts.parquet"
    with pytest.raises(InputError) as caught:
        lemmatize.main(missing, lemmas, cache, config)
    assert str(caught.value) == (
        f"{missing}: файла нет; его пишет стадия ingest: запустите `dvc repro ingest`"
    )
    contacts.write_bytes(os.urandom(10))
    with pytest.raises(InputError, match=f"{contacts}: не читается как Parquet"):
        lemmatize.main(contacts, lemmas, cache, config)
    assert not lemmas.exists() and not cache.exists() and _temps(tmp_path) == []


def test_a_broken_cache_is_only_a_slower_run(tmp_path) -> None:
    contacts, lemmas, cache, config = _stage_paths(tmp_path)
    cache.write_bytes(b"not parquet")
    frame = lemmatize.main(contacts, lemmas, cache, config)
    assert frame["lemmas"].tolist()[0] == "карта не_прийти"
    assert load_cache(cache, lemmatizer_fingerprint())  # rewritten, readable
