"""The lemmatize stage: one pass per distinct text; a cache that outlives weeks, not code."""

from __future__ import annotations

import os

import pandas as pd
import pytest

from pipeline import lemmatize
from pipeline.io.inputs import InputError
from pipeline.io.partitions import read_dataset, write_dataset
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


def _stage_paths(tmp_path, texts=("Карта не пришла", None, "Не приходят смс-коды")):
    """A contacts dataset of two ISO weeks (the last text in the second)."""
    contacts = tmp_path / "interim" / "contacts"
    frame = _contacts(list(texts))
    write_dataset(contacts, frame, pd.Series(["2026-W46"] * (len(texts) - 1) + ["2026-W47"]))
    lemmas, cache = tmp_path / "interim" / "lemmas", tmp_path / "interim" / "cache.parquet"
    return contacts, lemmas, cache, LemmatizeConfig()


def _temps(folder) -> list[str]:
    return sorted(p.name for p in folder.rglob("*") if ".tmp" in p.name)


def _files(root) -> dict[str, bytes]:
    return {p.relative_to(root).as_posix(): p.read_bytes() for p in root.rglob("*") if p.is_file()}


def test_a_rerun_computes_nothing_and_a_new_week_only_that_week(tmp_path, caplog) -> None:
    contacts, lemmas, cache, config = _stage_paths(tmp_path)
    lemmatize.main(contacts, lemmas, cache, config)
    before = _files(lemmas), cache.read_bytes()
    assert len(lemmatize.main(contacts, lemmas, cache, config).tasks) == 0
    assert (_files(lemmas), cache.read_bytes()) == before  # a rerun: the same bytes
    # next week's export arrives: only its part is lemmatised
    frame = _contacts(["Карта не пришла", None, "Не приходят смс-коды", "Банкомат съел карту"])
    write_dataset(contacts, frame, pd.Series(["2026-W46"] * 2 + ["2026-W47", "2026-W48"]))
    with caplog.at_level("INFO"):
        plan = lemmatize.main(contacts, lemmas, cache, config)
    assert [t.week for t in plan.tasks] == ["2026-W48"]
    assert "недель с изменёнными входами 1 из 3 (2026-W48)" in caplog.text
    assert all(_files(lemmas)[name] == data for name, data in before[0].items() if "part" in name)
    assert read_dataset(lemmas, weeks=["2026-W48"])["lemmas"].tolist() == ["банкомат съесть карта"]


def test_a_failing_run_keeps_last_weeks_manifest_and_cache(tmp_path, monkeypatch) -> None:
    contacts, lemmas, cache, config = _stage_paths(tmp_path)
    lemmatize.main(contacts, lemmas, cache, config)
    before = (lemmas / "_manifest.json").read_bytes(), cache.read_bytes()
    write_dataset(
        contacts, _contacts(["Другой текст", None, "Третий"]), pd.Series(["2026-W46"] * 3)
    )

    def fail(*args, **kwargs):
        raise MemoryError("out of memory mid-way")

    monkeypatch.setattr("pipeline.engine.tasks.lemmatize_frame", fail)
    with pytest.raises(MemoryError):
        lemmatize.main(contacts, lemmas, cache, config)
    assert ((lemmas / "_manifest.json").read_bytes(), cache.read_bytes()) == before
    assert _temps(tmp_path) == []


def test_missing_or_broken_contacts_name_the_path_and_ingest(tmp_path) -> None:
    contacts, lemmas, cache, config = _stage_paths(tmp_path)
    missing = tmp_path / "nowhere" / "contacts"
    with pytest.raises(InputError) as caught:
        lemmatize.main(missing, lemmas, cache, config)
    assert str(caught.value) == (
        f"{missing}: нет набора данных (_manifest.json не найден); его пишет стадия ingest: "
        "запустите `dvc repro ingest`"
    )
    part = contacts / "week=2026-W46/part-00000.parquet"
    part.write_bytes(os.urandom(10))
    with pytest.raises(InputError, match=f"{part}: не читается как Parquet"):
        lemmatize.main(contacts, lemmas, cache, config)
    assert not cache.exists() and _temps(tmp_path) == []
    assert not (lemmas / "_manifest.json").exists()


def test_a_broken_cache_is_only_a_slower_run(tmp_path) -> None:
    contacts, lemmas, cache, config = _stage_paths(tmp_path)
    cache.parent.mkdir(parents=True, exist_ok=True)
    cache.write_bytes(b"not parquet")
    lemmatize.main(contacts, lemmas, cache, config)
    assert read_dataset(lemmas)["lemmas"].tolist()[0] == "карта не_прийти"
    assert load_cache(cache, lemmatizer_fingerprint())  # rewritten, readable
