"""The investigations behind the notebooks, on a small hand-made warehouse."""

from __future__ import annotations

import json
import math
import re
from datetime import date, datetime, timedelta

import duckdb
import numpy as np
import pandas as pd
import pytest
from conftest import ROOT

from pipeline import investigate
from pipeline.investigate.chains import NO_TEXT, build_chains, repeat_chains, transfer_paths
from pipeline.investigate.model_errors import label_suspects, lowest_confidence, model_errors
from pipeline.investigate.notebook import summary_bundle
from pipeline.investigate.rise import (
    DIMENSIONS,
    decompose_change,
    decompose_counts,
    draft_conclusion,
    reason_status,
)
from pipeline.investigate.terms import distinctive_terms, examples_for_term, reason_terms
from pipeline.investigate.uncertain import (
    is_agent_note,
    split_sentences,
    title_case,
    uncertain_clusters,
)
from pipeline.investigate.warehouse import (
    InvestigationError,
    check_reason,
    connect,
    report_week,
    resolve_week,
    weeks_before,
)
from pipeline.model.training import TrainConfig
from pipeline.taxonomy.schema import load_taxonomy

WEEK_STARTS = {
    "2026-W43": date(2026, 10, 19),
    "2026-W44": date(2026, 10, 26),
    "2026-W45": date(2026, 11, 2),
    "2026-W46": date(2026, 11, 9),
    "2026-W47": date(2026, 11, 16),
}
TITLES = {
    "sms_code_missing": "Не приходит СМС-код",
    "card_blocked": "Карту заблокировали",
    "cannot_login": "Не могу войти в приложение или личный кабинет",
    "unknown": "Не определено",
}
# the usual complaints about SMS codes, every week
SMS_USUAL = [
    "Не приходит смс с кодом для входа, помогите",
    "Код подтверждения не приходит уже час",
    "СМС-код для оплаты не пришёл, жду давно",
]
# the week's spike: one mobile operator, written by clients and by agents
SMS_MEGAFON = [
    "кл. абонент МегаФон, смс-коды не доходят, консульт.",
    "У меня МегаФон, коды от банка не приходят со вчера",
    "Номер МегаФона, смс с кодом не приходит, звоните +7 916 123-45-67",
    "смс на МегаФон не доходят 2-й день, кл. недоволен",
    "Оператор МегаФон, код для входа не получен",
    "Коды не приходят, мегафоном пользуюсь 10 лет",
]
CARD_BLOCKED = [
    "Карту заблокировали без объяснения, а мне нужно платить",
    "Заблокировали карту после перевода от друга",
]
QR_TEXTS = [
    ("complaint", "Не могу оплатить по QR-коду в магазине. Приложение пишет ошибку."),
    ("complaint", "Оплата по QR-коду не проходит, на кассе говорят ошибка."),
    ("call", "кл. не может оплатить по QR-коду в ТСП, ошибка оплаты"),
    ("complaint", "Здравствуйте! Оплата по QR-коду не проходит третий день."),
]
MIR_PAY_TEXTS = [
    ("complaint", "Не могу добавить карту в Mir Pay, пишет ошибку токенизации."),
    ("complaint", "Карта не добавляется в Mir Pay после перевыпуска."),
    ("call", "кл. не может добавить карту в Mir Pay, заявка в ИТ"),
    ("complaint", "В Mir Pay карта не добавляется, что делать?"),
]
NOISE_TEXTS = [
    ("complaint", "Я пенсионерка и плохо разбираюсь в телефоне, помогите разобраться."),
    ("complaint", "Пишу поздно вечером, днём нет ни минуты, ответьте на почту."),
    ("call", "Тест проверка связи"),
]


def row(
    cid,
    week,
    day,
    hour,
    *,
    reason,
    text,
    kind="complaint",
    channel=None,
    queue=None,
    customer=None,
    confidence=0.95,
    status="classified",
    route=None,
    runner_up=None,
    top=None,
):
    local = datetime.combine(WEEK_STARTS[week] + timedelta(days=day), datetime.min.time())
    local += timedelta(hours=hour)
    return {
        "contact_id": f"{kind}:{cid}",
        "kind": kind,
        "channel": channel or ("phone" if kind == "call" else "chat"),
        "created_at": pd.Timestamp(local).tz_localize("Europe/Moscow").tz_convert("UTC"),
        "created_local": local,
        "iso_week": week,
        "week_start": WEEK_STARTS[week],
        "local_hour": hour,
        "queue": queue
        or ("Дистанционное обслуживание" if kind == "call" else "Дирекция цифровых каналов"),
        "outcome": "answered" if kind == "call" else None,
        "transfers": (route.count(" > ") if route else 0) if kind == "call" else None,
        "route": route,
        "customer_id": customer or f"C-{cid}",
        "reason_id": reason,
        "top_reason_id": top or reason,  # the model's guess, also under the threshold
        "class_status": status,
        "confidence": confidence if reason is not None else None,
        "runner_up_id": runner_up,
        "reason_title": TITLES.get(reason),
        "repeat_observed": week != "2026-W47",
        "text": text,
    }


def demo_rows() -> list[dict]:
    rows, n = [], 0
    for week in WEEK_STARTS:
        for i, text in enumerate(SMS_USUAL):
            n += 1
            rows.append(row(n, week, i, 10, reason="sms_code_missing", text=text))
        for i, text in enumerate(CARD_BLOCKED):
            n += 1
            rows.append(row(n, week, i, 15, reason="card_blocked", text=text, kind="call"))
    for i, text in enumerate(SMS_MEGAFON):
        n += 1
        rows.append(
            row(
                n,
                "2026-W47",
                1,
                11,
                reason="sms_code_missing",
                text=text,
                kind="call",
                customer=f"MF{i}",
                route="Дистанционное обслуживание > Карты" if i < 2 else None,
            )
        )
    # MF0 comes back in two days about the app, then calls once more without a text
    rows.append(
        row(
            "r1",
            "2026-W47",
            3,
            9,
            reason="cannot_login",
            kind="call",
            customer="MF0",
            text="Не могу войти в приложение, код так и не пришёл",
        )
    )
    rows.append(
        row(
            "r2",
            "2026-W47",
            5,
            9,
            reason=None,
            kind="call",
            customer="MF0",
            text=None,
            status="no_text",
        )
    )
    # uncertain contacts: two new topics growing over W44..W47, and steady filler
    for week, per_topic in zip(
        ["2026-W44", "2026-W45", "2026-W46", "2026-W47"], [1, 2, 3, 5], strict=True
    ):
        for topic in (QR_TEXTS, MIR_PAY_TEXTS):
            for i in range(per_topic):
                kind, text = topic[(i + per_topic) % len(topic)]
                n += 1
                rows.append(
                    row(
                        n,
                        week,
                        i % 7,
                        12,
                        reason="unknown",
                        text=text,
                        kind=kind,
                        confidence=0.2 + 0.01 * i,
                        status="below_threshold",
                        runner_up="card_blocked",
                        top="payment_declined" if topic is QR_TEXTS else "card_blocked",
                    )
                )
        for i, (kind, text) in enumerate(NOISE_TEXTS):
            n += 1
            rows.append(
                row(
                    n,
                    week,
                    i,
                    18,
                    reason="card_blocked",
                    text=text,
                    kind=kind,
                    confidence=0.3,
                    runner_up="cannot_login",
                )
            )
    return rows


@pytest.fixture(scope="module")
def warehouse(tmp_path_factory):
    path = tmp_path_factory.mktemp("warehouse") / "warehouse.duckdb"
    contacts = pd.DataFrame(demo_rows())
    reasons = pd.DataFrame(
        {
            "reason_id": list(TITLES),
            "title": list(TITLES.values()),
            "reserved": [False, False, False, True],
            "active": True,
            "order": range(len(TITLES)),
        }
    )
    with duckdb.connect(str(path)) as con:
        con.register("contacts_df", contacts)
        con.execute("CREATE TABLE contacts AS SELECT * FROM contacts_df")
        con.register("reasons_df", reasons)
        con.execute("CREATE TABLE reasons AS SELECT * FROM reasons_df")
        con.execute(
            "CREATE TABLE run_info AS SELECT '2026-W47' AS report_week, 7 AS repeat_window_days"
        )
        con.execute("""
            CREATE TABLE closed_loop AS SELECT
                '2026-W47' AS report_week, 'sms_code_missing' AS reason_id,
                'Не приходит СМС-код' AS title, 'Цифровые каналы' AS owner, 9 AS contacts,
                3.0 AS prev_week, 2.0 AS wow_change, 3.0 AS mean4, 2.0 AS change_4w,
                3.0 AS expected, 0.001 AS spike_p_value, true AS is_spike,
                'flat' AS trend_verdict, 'без тренда' AS trend_ru, 0.0 AS trend_slope_pct,
                NULL AS note_week, NULL AS note_explanation, NULL AS note_action,
                'нет объяснения владельца' AS flag
        """)
    return path


@pytest.fixture()
def con(warehouse):
    connection = connect(warehouse)
    yield connection
    connection.close()


# --- warehouse access -------------------------------------------------------------------------


def test_connect_names_the_missing_warehouse_and_how_to_fix(tmp_path):
    with pytest.raises(InvestigationError, match=r"нет файла хранилища.*-p warehouse"):
        connect(tmp_path / "warehouse.duckdb")


def test_connection_is_read_only(con):
    with pytest.raises(duckdb.Error, match="read-only"):
        con.execute("CREATE TABLE notes AS SELECT 1 AS x")


def test_empty_week_means_the_report_week(con):
    assert report_week(con) == "2026-W47"
    assert resolve_week(con, "") == "2026-W47"
    assert resolve_week(con, "2026-W45") == "2026-W45"
    assert resolve_week(con, "2026w45") == "2026-W45"  # typed loosely, read as one


@pytest.mark.parametrize(
    ("week", "message"),
    [
        ("2026-45", "неделя '2026-45': ожидается ISO-неделя вида 2026-W47"),
        ("2026-W00", "не существует: в 2026 году недели с W01 по W53"),
        ("2026-W30", "нет контактов за неё; есть 2026-W43 … 2026-W47"),
    ],
)
def test_bad_week_is_explained(con, week, message):
    with pytest.raises(InvestigationError, match=message):
        resolve_week(con, week)


def test_misspelt_reason_gets_a_suggestion(con):
    with pytest.raises(InvestigationError, match="похожие: sms_code_missing"):
        check_reason(con, "sms_code_mising")


def test_baseline_before_the_data_is_an_error(con):
    with pytest.raises(InvestigationError, match="нет данных за 2026-W42.*baseline_weeks"):
        weeks_before(con, "2026-W45", 3)


# --- decomposition ----------------------------------------------------------------------------


def test_decompose_counts_by_hand():
    counts = pd.DataFrame(
        [
            # iso_week, dimension, value, contacts
            ("W1", "channel", "chat", 3),
            ("W2", "channel", "chat", 1),
            ("W3", "channel", "chat", 2),
            ("W3", "channel", "phone", 6),
        ],
        columns=["iso_week", "dimension", "value", "contacts"],
    )
    out = decompose_counts(counts, "W3", ["W1", "W2"]).set_index("value")
    # chat: 2 now vs (3 + 1) / 2; phone: 6 now vs nothing in the baseline (zero, not missing)
    assert out.loc["chat", "baseline_mean"] == 2.0
    assert out.loc["chat", "change"] == 0.0
    assert out.loc["phone", "baseline_mean"] == 0.0
    assert out.loc["phone", "share_of_change"] == 1.0
    assert list(out.index) == ["phone", "chat"]  # largest change first


def test_decompose_change_puts_the_spike_on_calls(con):
    out = decompose_change(con, "sms_code_missing", "2026-W47", baseline_weeks=4)
    assert set(out["dimension"]) == set(DIMENSIONS)
    top = out.groupby("dimension").head(1).set_index("dimension")["value"]
    assert top["channel"] == "phone"
    assert top["kind"] == "call"
    assert top["queue"] == "Дистанционное обслуживание"
    assert top["local_hour"] == "11"
    shares = out.groupby("dimension")["share_of_change"].sum()
    assert np.allclose(shares, 1.0)
    this = out[out["dimension"] == "kind"]["this_week"].sum()
    assert this == len(SMS_USUAL) + len(SMS_MEGAFON)


def test_decompose_change_rejects_an_unknown_dimension(con):
    with pytest.raises(InvestigationError, match="неизвестные разрезы.*segment"):
        decompose_change(con, "sms_code_missing", by=("channel", "segment"))


# --- distinctive terms ------------------------------------------------------------------------


def test_log_odds_with_informative_prior_matches_hand_computation():
    out = distinctive_terms(
        ["мегафон смс", "мегафон код"],
        ["смс код", "смс"],
        ngram=(1, 1),
        prior={"мегафон": 1, "смс": 1, "код": 1},
        prior_weight=3,
        min_count=1,
    ).set_index("term")
    # y_i = 2 of n_i = 4, y_j = 0 of n_j = 3, alpha_w = 1, alpha_0 = 3 (Monroe et al. 2008)
    delta = math.log(3 / (4 + 3 - 2 - 1)) - math.log(1 / (3 + 3 - 0 - 1))
    assert out.loc["мегафон", "log_odds"] == pytest.approx(delta)
    assert out.loc["мегафон", "z"] == pytest.approx(delta / math.sqrt(1 / 3 + 1 / 1))
    assert out.index[0] == "мегафон"
    assert out.loc["смс", "z"] < 0  # rarer this week


def test_a_stronger_prior_shrinks_the_log_odds():
    this, base = ["мегафон смс"] * 5, ["смс"] * 20
    weak = distinctive_terms(this, base, prior_weight=10).set_index("term")
    strong = distinctive_terms(this, base, prior_weight=1000).set_index("term")
    assert 0 < strong.loc["мегафон", "log_odds"] < weak.loc["мегафон", "log_odds"]


def test_operator_is_the_distinctive_term_of_the_spike(con, lemmatizer):
    terms = reason_terms(con, "sms_code_missing", "2026-W47", 4, lemmatizer=lemmatizer)
    assert terms["term"].iloc[0] == "мегафон"  # "МегаФона", "мегафоном" -> one lemma
    assert terms.set_index("term").loc["мегафон", "this_count"] == len(SMS_MEGAFON)
    usual = terms[terms["term"].isin(["смс", "код", "не_приходить"])]
    assert (usual["z"] < terms["z"].iloc[0] / 2).all()


def test_examples_for_a_term_match_any_inflection_and_are_masked(con, lemmatizer):
    found = examples_for_term(
        con, "sms_code_missing", "2026-W47", "мегафон", 10, lemmatizer=lemmatizer
    )
    assert len(found) == len(SMS_MEGAFON)
    assert all("мегафон" in text.lower() for text in found["text"])
    assert any("[телефон]" in text for text in found["text"])
    assert not any("916" in text for text in found["text"])


def test_examples_for_a_bigram(con, lemmatizer):
    found = examples_for_term(
        con, "sms_code_missing", "2026-W47", "абонент мегафон", 5, lemmatizer=lemmatizer
    )
    assert found["text"].tolist() == [SMS_MEGAFON[0]]


# --- repeat chains and transfer paths ---------------------------------------------------------


def test_build_chains_follows_each_next_contact_within_the_window():
    at = pd.Timestamp("2026-11-16 10:00", tz="UTC")
    contacts = pd.DataFrame(
        [
            ("A", "a1", at, "2026-W47", "sms_code_missing"),
            ("A", "a2", at + pd.Timedelta(days=6), "2026-W48", "cannot_login"),
            ("A", "a3", at + pd.Timedelta(days=12), "2026-W49", None),  # 6 days after a2: chained
            ("A", "a4", at + pd.Timedelta(days=30), "2026-W51", "card_blocked"),  # too late
            ("B", "b1", at - pd.Timedelta(days=1), "2026-W46", "card_blocked"),  # before the start
            ("B", "b2", at + pd.Timedelta(hours=2), "2026-W47", "sms_code_missing"),
        ],
        columns=["customer_id", "contact_id", "created_at", "iso_week", "reason_id"],
    )
    chains = build_chains(contacts, "sms_code_missing", "2026-W47", 7)
    by_customer = dict(zip(chains["customer_id"], chains["reasons"], strict=True))
    assert by_customer == {
        "A": ("sms_code_missing", "cannot_login", NO_TEXT),
        "B": ("sms_code_missing",),
    }


def test_repeat_chains_of_the_spike(con):
    chains = repeat_chains(con, "sms_code_missing", "2026-W47")
    assert chains.customers == len(SMS_USUAL) + len(SMS_MEGAFON)
    assert chains.came_back == 1
    assert chains.window_observed_share == 0.0  # the report week's windows are not closed yet
    table = chains.chains.set_index("chain")
    assert table.loc["Не приходит СМС-код → (не вернулся)", "customers"] == chains.customers - 1
    back = "Не приходит СМС-код → Не могу войти в приложение или личный кабинет → (без текста)"
    assert table.loc[back, "customers"] == 1


def test_transfer_paths_compare_the_week_with_the_baseline(con):
    paths = transfer_paths(con, "sms_code_missing", "2026-W47").set_index("path")
    assert paths.loc["Дистанционное обслуживание", "calls"] == 4  # not transferred
    assert paths.loc["Дистанционное обслуживание > Карты", "calls"] == 2
    assert paths.loc["Дистанционное обслуживание > Карты", "transfers"] == 1
    assert paths["baseline_mean"].sum() == 0  # the usual SMS complaints are chats
    assert paths["share"].sum() == pytest.approx(1.0)


def test_reason_status_and_draft_conclusion(con, lemmatizer):
    status = reason_status(con, "sms_code_missing")
    assert status["is_spike"] is True
    decomposition = decompose_change(con, "sms_code_missing", "2026-W47")
    terms = reason_terms(con, "sms_code_missing", "2026-W47", lemmatizer=lemmatizer)
    draft = draft_conclusion(
        TITLES["sms_code_missing"], "2026-W47", decomposition, terms, min_z=1.0
    )
    draft = draft.replace("\u00a0", " ")  # no-break spaces keep numbers on one line
    assert "контактов 9 при среднем 3,0 за базовые недели, изменение +6,0 (+200 %)" in draft
    assert "Канал: больше всего изменилось «phone» (+6,0, 100 % изменения)" in draft
    assert "«мегафон» (6 против 0)" in draft


# --- uncertain contacts -----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("sentence", "agent"),
    [
        ("кл. не может оплатить по QR СБП в ТСП", True),
        ("Прил не открывается, тел перезагружен", True),
        ("Не могу оплатить по QR-коду в магазине", False),
    ],
)
def test_agent_notes_are_recognised_by_shorthand(sentence, agent):
    assert is_agent_note(sentence) is agent


@pytest.mark.parametrize(
    ("text", "sentences"),
    [
        (
            "Здравствуйте! Оплата по QR-коду не проходит. Помогите.",
            ["Здравствуйте!", "Оплата по QR-коду не проходит.", "Помогите."],
        ),
        ("кл. недоволен, обр. зарег. заявка в ИТ", ["кл. недоволен, обр. зарег. заявка в ИТ"]),
    ],
)
def test_sentences_are_not_cut_at_agent_abbreviations(text, sentences):
    assert split_sentences(text) == sentences


@pytest.mark.parametrize(
    ("sentence", "title"),
    [
        ("оплата по QR-коду не проходит.", "Оплата по QR-коду не проходит"),
        ("НЕ ПРИХОДЯТ КОДЫ!!! 😡", "Не приходят коды"),
        ("Сканирую QR-код, пишет «неверный формат».", "Сканирую QR-код, пишет «неверный формат»"),
    ],
)
def test_title_case(sentence, title):
    assert title_case(sentence) == title


def test_uncertain_clusters_find_the_growing_topics(con, lemmatizer):
    result = uncertain_clusters(con, weeks=4, lemmatizer=lemmatizer, k=2, min_size=3)
    assert result.weeks == ["2026-W44", "2026-W45", "2026-W46", "2026-W47"]
    assert result.below_threshold == 2 * (1 + 2 + 3 + 5)
    by_term = {}
    for cluster in result.clusters:
        for term, _, _ in cluster.top_terms:
            by_term.setdefault(term, cluster)
    qr, mir = by_term["qr-код"], by_term["mir pay"]
    assert qr is not mir
    for cluster in (qr, mir):
        assert list(cluster.weekly.values()) == [1, 2, 3, 5]
        assert cluster.growth == pytest.approx(5 - 2)
        assert cluster.number in (1, 2)  # growing clusters come first
        assert not is_agent_note(cluster.suggested_title)
    # the model's top guess, not «Не определено» (every one of them was left there)
    assert qr.model_reasons == [("payment_declined", 1.0)]
    assert mir.model_reasons == [("card_blocked", 1.0)]
    assert "QR" in qr.suggested_title
    assert "Mir Pay" in mir.suggested_title


def test_uncertain_clusters_choose_k_by_silhouette_and_are_deterministic(con, lemmatizer):
    first = uncertain_clusters(con, weeks=4, lemmatizer=lemmatizer, k_range=(2, 3, 4), min_size=3)
    again = uncertain_clusters(con, weeks=4, lemmatizer=lemmatizer, k_range=(2, 3, 4), min_size=3)
    assert set(first.silhouette) == {2, 3, 4}
    assert first.k == max(first.silhouette, key=first.silhouette.get)
    assert [c.contact_ids for c in first.clusters] == [c.contact_ids for c in again.clusters]


def test_low_confidence_takes_the_least_confident_classified_contacts_too(con, lemmatizer):
    result = uncertain_clusters(con, weeks=4, lemmatizer=lemmatizer, k=3, min_size=1, quantile=0.5)
    # 22 "не определено" at 0.20-0.24 and 12 classified fillers at 0.3 of 61 texts
    assert result.cutoff == pytest.approx(0.3)
    assert result.contacts == result.below_threshold + 4 * len(NOISE_TEXTS)


def test_quantile_must_be_a_share(con, lemmatizer):
    with pytest.raises(InvestigationError, match="quantile=10"):
        uncertain_clusters(con, lemmatizer=lemmatizer, quantile=10)


# --- where the model errs ---------------------------------------------------------------------


def test_model_errors_rank_confusion_pairs(tmp_path):
    metrics = tmp_path / "model.json"
    metrics.write_text(
        json.dumps(
            {
                "macro_f1": 0.8,
                "accuracy": 0.75,
                "coverage": 0.9,
                "examples": 8,
                "evaluation": "5-fold",
                "per_reason": {
                    "fee_dispute": {"precision": 0.5, "recall": 1.0, "f1": 0.67, "support": 2},
                    "tariff_question": {"precision": 1.0, "recall": 0.5, "f1": 0.67, "support": 4},
                    "card_blocked": {"precision": 1.0, "recall": 1.0, "f1": 1.0, "support": 2},
                },
            }
        ),
        encoding="utf-8",
    )
    confusion = tmp_path / "confusion.csv"
    pd.DataFrame(
        {
            "actual": ["tariff_question"] * 4 + ["fee_dispute"] * 2 + ["card_blocked"] * 2,
            "predicted": [
                "fee_dispute",
                "fee_dispute",
                "tariff_question",
                "tariff_question",
                "fee_dispute",
                "fee_dispute",
                "card_blocked",
                "card_blocked",
            ],
        }
    ).to_csv(confusion, index=False)
    errors = model_errors(metrics, confusion)
    assert errors.pairs.to_dict("records") == [
        {
            "actual": "tariff_question",
            "predicted": "fee_dispute",
            "errors": 2,
            "share_of_actual": 0.5,
        },
    ]
    assert errors.summary["errors"] == 2
    assert errors.per_reason["reason_id"].tolist()[-1] == "card_blocked"  # worst F1 first
    assert errors.error_matrix.loc["tariff_question", "fee_dispute"] == 2


def test_model_errors_name_the_missing_file(tmp_path):
    with pytest.raises(InvestigationError, match="model.json: нет файла.*train"):
        model_errors(tmp_path / "model.json", tmp_path / "confusion.csv")


def test_lowest_confidence_first(con):
    lowest = lowest_confidence(con, 3, "2026-W47")
    assert lowest["confidence"].tolist() == sorted(lowest["confidence"])
    assert lowest["confidence"].iloc[0] == pytest.approx(0.2)
    assert lowest["runner_up_title"].iloc[0] == TITLES["card_blocked"]


def test_label_suspects_finds_a_mislabelled_example(tmp_path, lemmatizer):
    labels = {
        "sms_code_missing": [
            "Не приходит смс с кодом",
            "Код из смс не пришёл",
            "СМС-код для входа не приходит",
            "Не получаю смс-коды от банка",
            "Смс с кодом подтверждения не доходит",
            "Коды в смс не приходят",
        ],
        "card_blocked": [
            "Карту заблокировали",
            "Заблокировали карту без причины",
            "Карта заблокирована банком",
            "Почему заблокировали мою карту",
            "Блокировка карты после перевода",
            "Разблокируйте карту, пожалуйста",
        ],
        "cannot_login": [
            "Не могу войти в приложение",
            "Не пускает в личный кабинет",
            "Вход в приложение не работает",
            "Не получается зайти в приложение",
            "Личный кабинет не открывается",
            "Приложение не пускает по паролю",
        ],
    }
    rows = [(text, reason, "client") for reason, texts in labels.items() for text in texts]
    rows.append(("Не приходит смс-код для входа в приложение", "card_blocked", "client"))
    folder = tmp_path / "labels"
    folder.mkdir()
    pd.DataFrame(rows, columns=["text", "reason_id", "source"]).to_csv(
        folder / "mixed.csv", index=False
    )
    taxonomy = load_taxonomy(ROOT / "taxonomy" / "reasons.yaml")
    suspects = label_suspects(
        folder,
        taxonomy,
        folds=3,
        lemmatizer=lemmatizer,
        config=TrainConfig(Cs=(1.0,), cv_folds=2, random_state=0),
        min_confidence=0.4,
    )
    wrong = suspects[suspects["text"] == "Не приходит смс-код для входа в приложение"]
    assert len(wrong) == 1
    assert wrong["label"].iloc[0] == "card_blocked"
    assert wrong["predicted"].iloc[0] in {"sms_code_missing", "cannot_login"}
    assert wrong["line"].iloc[0] == len(rows) + 1  # header is line 1
    assert (suspects["label"] != suspects["predicted"]).all()


# --- notebook plumbing ------------------------------------------------------------------------


def test_summary_bundle_is_plain_json():
    bundle = summary_bundle(
        {
            "count": np.int64(3),
            "share": np.float64(0.5),
            "missing": float("nan"),
            "pair": ("a", "b"),
            "table": pd.DataFrame({"x": [1]}),
            "week": date(2026, 11, 16),
        }
    )
    data = bundle["application/json"]
    assert data == {
        "count": 3,
        "share": 0.5,
        "missing": None,
        "pair": ["a", "b"],
        "table": [{"x": 1}],
        "week": "2026-11-16",
    }
    assert json.loads(bundle["text/plain"]) == data


def test_the_package_exports_what_the_notebooks_call():
    """The notebooks do ``from pipeline import investigate`` and call ``investigate.X``."""
    for path in sorted((ROOT / "notebooks").glob("*.ipynb")):
        cells = json.loads(path.read_text("utf-8"))["cells"]
        code = "\n".join("".join(c["source"]) for c in cells if c["cell_type"] == "code")
        used = set(re.findall(r"\binvestigate\.([A-Za-z_]\w*)", code))
        assert used, path.name
        missing = sorted(name for name in used if not hasattr(investigate, name))
        assert not missing, f"{path.name}: {missing}"
    assert callable(investigate.model_errors)  # the function, not its module


def test_show_draws_every_data_string_of_a_figure_as_text(monkeypatch):
    """A queue named as a link, in a bar's axis, legend and hover: plotly.js gets entities; the
    hover template px writes keeps its own <br>."""
    import plotly.express as px
    import plotly.graph_objects as go

    from pipeline.investigate.notebook import show

    queue = '<a href="javascript:window.__xss = 1">Карты</a>'
    frame = pd.DataFrame({"queue": [queue, "Кредиты"], "calls": [3, 5], "kind": [queue, "x"]})
    figure = px.bar(frame, x="queue", y="calls", color="kind", hover_data=["kind"])
    shown = []
    monkeypatch.setattr(go.Figure, "show", lambda self, *a, **k: shown.append(self))
    show(figure)
    data = json.loads(shown[0].to_json())
    text = json.dumps(data, ensure_ascii=False)
    assert "<a href" not in text and '&lt;a href=\\"javascript:window.__xss = 1\\"&gt;' in text
    assert "<br>" in data["data"][0]["hovertemplate"]
