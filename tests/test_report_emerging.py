"""Emerging topics of the report: rising terms among the warehouse's low-confidence contacts."""

from __future__ import annotations

from types import SimpleNamespace

import duckdb
import pandas as pd

from pipeline.io.partitions import write_dataset
from pipeline.reporting import data
from pipeline.reporting.emerging import contact_terms, emerging_topics

WEEKS = [f"2026-W{w}" for w in range(40, 48)]  # 4 before, 4 recent
SETTINGS = SimpleNamespace(
    emerging_weeks=4, low_confidence_quantile=0.5, emerging_min_count=3, emerging_terms=10
)


def low_contacts(rows: list[tuple[str, str, str]]) -> tuple[pd.DataFrame, pd.DataFrame]:
    """(week, lemmas, text) -> the low-confidence frame and the lemmas frame."""
    ids = [f"c{i}" for i in range(len(rows))]
    low = pd.DataFrame(
        {"contact_id": ids, "iso_week": [r[0] for r in rows], "text": [r[2] for r in rows]}
    )
    lemmas = pd.DataFrame({"contact_id": ids, "lemmas": [r[1] for r in rows]})
    return low, lemmas


def test_terms_are_words_and_pairs_without_numbers():
    assert contact_terms("оплата qr 123 код") == {"оплата", "qr", "код", "оплата qr", "qr код"}
    assert contact_terms(None) == set()


def test_a_term_rising_in_the_recent_weeks_is_listed_with_masked_examples():
    rows = [(w, "карта блокировать", "карта заблокирована") for w in WEEKS]  # steady: not new
    rows += [(w, "оплата qr", "не проходит QR, звоните +7 916 123-45-67") for w in WEEKS[-4:]]
    rows += [(WEEKS[-1], "оплата qr", "QR снова")]
    low, lemmas = low_contacts(rows)
    topics = emerging_topics(low, lemmas, WEEKS, recent=4, min_count=3, limit=10)
    terms = [t.term for t in topics]
    assert terms[0] == "qr" or terms[0] == "оплата qr"
    assert "карта" not in terms and "карта блокировать" not in terms
    qr = next(t for t in topics if t.term == "qr")
    assert (qr.recent, qr.before) == (5, 0)
    assert qr.ratio == (5 / 4) / (1 / 4)
    assert len(qr.examples) == 2 and "916" not in " ".join(qr.examples)


def test_a_single_word_already_in_a_listed_pair_is_left_out():
    rows = [(w, "мир пэй", "mir pay не работает") for w in WEEKS[-4:] for _ in range(2)]
    rows += [(WEEKS[0], "пэй", "pay")]  # "пэй" rises less than "мир" and "мир пэй"
    low, lemmas = low_contacts(rows)
    topics = emerging_topics(low, lemmas, WEEKS, recent=4, min_count=3, limit=10)
    assert [(t.term, t.ratio) for t in topics] == [("мир", 8.0), ("мир пэй", 8.0)]


def test_rare_terms_and_an_empty_selection_give_no_topics():
    low, lemmas = low_contacts([(WEEKS[-1], "редкий", "редкий случай")] * 2)
    assert emerging_topics(low, lemmas, WEEKS, recent=4, min_count=3, limit=10) == []
    empty = low.iloc[0:0]
    assert emerging_topics(empty, lemmas, WEEKS, recent=4, min_count=3, limit=10) == []


def test_the_report_uses_the_one_low_confidence_definition(tmp_path):
    """low_confidence.sql: below-threshold contacts plus the quantile least confident of the
    weeks' contacts with text (the cut includes its own value); confident ones and contacts
    without text stay out."""
    con = duckdb.connect()
    rows = []
    for i, week in enumerate(WEEKS[-4:] * 3):
        rows.append((f"b{i}", week, "below_threshold", 0.2, "новая тема"))  # always low
        rows.append((f"l{i}", week, "classified", 0.5, "смс код"))  # at the cut: low
        rows.append((f"h{i}", week, "classified", 0.9, "кредит досрочно"))  # confident
        rows.append((f"n{i}", week, "classified", 0.1, None))  # no text: not in the cut
    con.execute(
        """CREATE TABLE contacts (contact_id VARCHAR, iso_week VARCHAR, class_status VARCHAR,
           confidence DOUBLE, text VARCHAR, created_local TIMESTAMP DEFAULT '2026-11-20',
           kind VARCHAR DEFAULT 'call', channel VARCHAR DEFAULT 'phone', queue VARCHAR,
           reason_id VARCHAR, top_reason_id VARCHAR, runner_up_id VARCHAR)"""
    )
    con.executemany(
        "INSERT INTO contacts (contact_id, iso_week, class_status, confidence, text) "
        "VALUES (?, ?, ?, ?, ?)",
        rows,
    )
    lemmas = pd.DataFrame(
        {"contact_id": [r[0] for r in rows], "lemmas": [r[4] or "" for r in rows]}
    )
    # lemmatize stores the lemmas by the ISO week of their contact
    write_dataset(tmp_path / "lemmas", lemmas, pd.Series([r[1] for r in rows]))
    topics = data.low_confidence_topics(con, tmp_path / "lemmas", WEEKS, SETTINGS)
    terms = {t.term for t in topics}
    assert "новая тема" in terms and "смс код" in terms
    assert not terms & {"кредит", "досрочно", "кредит досрочно"}
