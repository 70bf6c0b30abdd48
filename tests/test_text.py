"""Golden tables for the Russian text chain: normalise, tokenise, lemmatise, mask.

Rows are real complaint phrasing (client first person, agent shorthand, typos, caps, ё/е,
Latin look-alikes, markup). Known misses are ``xfail(strict=True)`` rows with the reason, so a
fix shows up as an XPASS failure and the row moves to the passing table.
"""

from __future__ import annotations

import pickle

import pytest

from pipeline.text import (
    NEGATIONS,
    Lemmatizer,
    attach_negations,
    dawg_extension_available,
    load_stopwords,
    mask_personal_data,
    normalize,
    tokenize,
)


def known_miss(text: str, expected: str, reason: str):
    return pytest.param(text, expected, marks=pytest.mark.xfail(reason=reason, strict=True))


def plain_rows(cases: list) -> list[tuple[str, str]]:
    """(raw, expected) of every row of a golden table, known misses included."""
    return [tuple(getattr(case, "values", case)) for case in cases]


# --- normalize ----------------------------------------------------------------------------------

NORMALIZE_CASES = [
    # case, repeats, ё/е
    ("СМС не приходит!!!", "смс не приходит!"),
    ("ооочень долго жду ответа!!!!", "очень долго жду ответа!"),
    ("Ещё раз: пришёл код, а всё равно ошибка", "еще раз: пришел код, а все равно ошибка"),
    ("  карта\t\tне\n\nпришла  ", "карта не пришла"),
    # Latin look-alikes inside Cyrillic words; purely Latin words stay
    ("кaрта заблокирована", "карта заблокирована"),
    ("CMC код нe пpиходит", "смс код не приходит"),
    ("Оплачиваю через Mir Pay на iPhone", "оплачиваю через mir pay на iphone"),
    ("Mir Pay OK", "mir pay ok"),
    known_miss(
        "кредит в OTP банке",
        "кредит в otp банке",
        "an upper-case Latin word made only of look-alikes in Cyrillic text is read as "
        "Cyrillic ('CMC' -> 'смс'), so the bank name 'OTP' becomes 'отр'",
    ),
    # invisible characters and decomposed letters
    ("кар\u00adта не при\u200bшла", "карта не пришла"),
    ("заи\u0306м не одобрили", "займ не одобрили"),
    # emoji stay in the normalised text (the tokenizer drops them), repeats squeezed
    ("деньги не пришли 😡😡😡", "деньги не пришли 😡"),
    # HTML markup and entities
    ("<p>Не&nbsp;приходит&nbsp;код</p>", "не приходит код"),
    ('<div>Карта<br>не <span style="color:red">пришла</span></div>', "карта не пришла"),
    (
        "<html><head><style>p {color: red}</style></head><body>Верните деньги</body></html>",
        "верните деньги",
    ),
    ("&lt;b&gt;Срочно&lt;/b&gt; &laquo;не работает&raquo;", "срочно «не работает»"),
    ("сумма &lt; 500 и &gt; 100", "сумма < 500 и > 100"),
    # quoted replies and signatures
    ("Не приходит код\n> Здравствуйте, чем помочь?\n> Оператор", "не приходит код"),
    (
        "Карта не пришла\n\n-----Original Message-----\nFrom: bank\nВаша карта готова",
        "карта не пришла",
    ),
    ("Не помогло\n\n-----Исходное сообщение-----\nОт: Банк\nПерезагрузите телефон", "не помогло"),
    (
        "Спасибо, не помогло\n\nпн, 2 нояб. 2026 г. в 14:05, Банк <support@bank.ru>:\n"
        "> Попробуйте перезагрузить",
        "спасибо, не помогло",
    ),
    ("Верните деньги.\n-- \nИван Петров\n+7 916 123 45 67", "верните деньги."),
    ("Карта не пришла. С уважением, Иван Петров", "карта не пришла."),
    ("Карта не пришла.\nС уважением,\nИван Петров\nООО Ромашка", "карта не пришла."),
    ("Прошу вернуть деньги\n\nОтправлено с iPhone", "прошу вернуть деньги"),
    ("Прошу вернуть деньги. Отправлено с моего iPhone", "прошу вернуть деньги."),
    ("Отправлено с iPhone", ""),
    # "с уважением" inside a sentence is not a sign-off
    ("прошу отнестись с уважением к клиентам", "прошу отнестись с уважением к клиентам"),
    # a bare forward keeps the forwarded text
    (
        "-----Original Message-----\nFrom: client@mail.ru\nSubject: карта\n\nКарта не пришла",
        "карта не пришла",
    ),
    # placeholders
    ("пишите на ivan.petrov@mail.ru", "пишите на emailtoken"),
    ("см. https://bank.ru/help?id=1, и www.bank.ru", "см. urltoken , и urltoken"),
    ("зайдите на gosuslugi.ru", "зайдите на urltoken"),
    ("звоню на +7 (916) 123-45-67", "звоню на phonetoken"),
    ("8 916 123 45 67 или 89161234567", "phonetoken или phonetoken"),
    ("линия 8-800-555-35-35 занята", "линия phonetoken занята"),
    ("карта 4276 3800 1234 5678 заблокирована", "карта cardtoken заблокирована"),
    ("карта 4276380012345678901 не работает", "карта cardtoken не работает"),
    ("Перевел 5 000 руб, а дошло 1200р", "перевел sumtoken , а дошло sumtoken"),
    ("списали 300 рублей за смс", "списали sumtoken за смс"),
    ("кредит на 15 тыс одобрили", "кредит на sumtoken одобрили"),
    ("списали 1 500 000 руб. со счета", "списали sumtoken со счета"),
    ("сняли $100 и 50 евро", "сняли sumtoken и sumtoken"),
    # other numbers: short ones stay, dates, times and ids go
    ("звонил 3 раза", "звонил 3 раза"),
    ("переводил 02.11.2026 в 14:05, заявка 123456789", "переводил в , заявка"),
    ("паспорт 4512 345678 не принимают", "паспорт не принимают"),
    ("счет 40817810099991234567 арестован", "счет арестован"),
]


@pytest.mark.parametrize(("raw", "expected"), NORMALIZE_CASES)
def test_normalize(raw: str, expected: str) -> None:
    assert normalize(raw) == expected


ODD_INPUTS = [
    None,
    float("nan"),
    42,
    b"\xd0\xba\xd0\xb0\xd1\x80\xd1\x82\xd0\xb0",
    ["карта"],
    "",
    "   \n\t ",
    "😡🤬👎🏻",
    "\x00\x01\x02",
    "\ud800 одинокий суррогат",
    "<<<>>> <script>alert(1)",
    "<!-- незакрытый комментарий",
    "&#0;&#xD800;&bogus; &amp;&amp;",
    "İstanbul ß ﬁ",
    "Карта 4276 3800 1234 5678 не пришла, звоните +7 916 123-45-67. " * 1_600,
    "-" * 100_000,
    "000 " * 25_000,
    "<!--" * 25_000,
    "a@" * 50_000,
]


@pytest.mark.parametrize("value", ODD_INPUTS, ids=lambda value: repr(value)[:30])
def test_normalize_never_raises(value: object, lemmatizer: Lemmatizer) -> None:
    normalized = normalize(value)
    assert isinstance(normalized, str)
    if not isinstance(value, str):
        assert normalized == ""
    assert isinstance(tokenize(normalized), list)
    assert isinstance(lemmatizer.lemmatize(value), str)
    assert isinstance(mask_personal_data(value), str)


# --- tokenize -----------------------------------------------------------------------------------

TOKENIZE_CASES = [
    ("кто-то снял 500 руб с карты!!! 😡", ["кто-то", "снял", "500", "руб", "с", "карты"]),
    ("смс-код не пришел", ["смс-код", "не", "пришел"]),
    ("списали sumtoken, карта cardtoken", ["списали", "sumtoken", "карта", "cardtoken"]),
    ("mir pay / iphone 15", ["mir", "pay", "iphone", "15"]),
    ("кл. не может войти в лк", ["кл", "не", "может", "войти", "в", "лк"]),
    ("--- ... !!! ??? 👍", []),
    ("", []),
]


@pytest.mark.parametrize(("normalized", "expected"), TOKENIZE_CASES)
def test_tokenize(normalized: str, expected: list[str]) -> None:
    assert tokenize(normalized) == expected


# --- negation -----------------------------------------------------------------------------------

NEGATION_CASES = [
    (["смс", "не", "приходить"], ["смс", "не_приходить"]),
    (["не", "мочь", "войти"], ["не_мочь", "войти"]),
    # prepositions and determiners are passed over, kept for the stop-word filter
    (["деньги", "уйти", "не", "на", "тот", "карта"], ["деньги", "уйти", "не_карта", "на", "тот"]),
    (["ни", "один", "смс"], ["ни_один", "смс"]),
    (["не", "не", "мочь"], ["не", "не_мочь"]),
    # nothing to attach to: the particle stays on its own
    (["смс", "не"], ["смс", "не"]),
    (["не", "sumtoken"], ["не", "sumtoken"]),
    (["не", "в", "на", "с", "карта"], ["не", "в", "на", "с", "карта"]),
    # "нет" and "без" are words of their own
    (["нет", "деньги"], ["нет", "деньги"]),
    (["без", "смс"], ["без", "смс"]),
]


@pytest.mark.parametrize(("lemmas", "expected"), NEGATION_CASES)
def test_attach_negations(lemmas: list[str], expected: list[str]) -> None:
    assert attach_negations(lemmas) == expected


# --- lemmatize (the whole chain) ----------------------------------------------------------------

LEMMATIZE_CASES = [
    # client, first person
    ("СМС не приходит!!!", "смс не_приходить"),
    ("СМС приходит", "смс приходить"),
    ("Не приходят смс-коды", "не_приходить смс-код"),
    ("в интернет-банке ошибка", "интернет-банк ошибка"),
    ("оформил онлайн-заявку", "оформить онлайн-заявка"),
    ("По-прежнему не работает", "по-прежнему не_работать"),
    ("не могу войти в приложение", "не_мочь войти приложение"),
    ("Здравствуйте! Добрый день. Карта не пришла, жду уже 3 дня", "карта не_прийти ждать 3 день"),
    ("деньги не пришли на карту 😡😡😡", "деньги не_прийти карта"),
    ("Деньги ушли не на ту карту", "деньги уйти не_карта"),
    ("ни одного смс не пришло", "ни_один смс не_прийти"),
    ("денег не было на счету", "деньги не_быть счет"),
    ("нет денег на счёте", "нет деньги счет"),
    ("без смс не могу подтвердить перевод", "без смс не_мочь подтвердить перевод"),
    ("обещали перезвонить и не перезвонили", "обещать перезвонить не_перезвонить"),
    ("Банкомат съел карту", "банкомат съесть карта"),
    ("Звонила в банк 5 раз, никто не берет трубку", "звонить банк 5 раз никто не_брать трубка"),
    ("Доброго времени суток! Не могу перевести деньги по СБП", "не_мочь перевести деньги сбп"),
    ("Добрый вечер, когда придет карта?", "прийти карта"),
    ("Пришёл код, а потом всё зависло", "прийти код зависнуть"),
    ("Почему мне отказали в кредите?", "почему отказать кредит"),
    # caps, repeats, Latin look-alikes, purely Latin names
    ("ЗАБЛОКИРОВАЛИ КАРТУ!!! ВЕРНИТЕ ДЕНЬГИ", "заблокировать карта вернуть деньги"),
    ("ооочень долго жду ответа!!!!", "долго ждать ответ"),
    ("CMC код нe пpиходит", "смс код не_приходить"),
    ("кaрта заблокирована", "карта заблокировать"),
    (
        "Оплачиваю через mir pay на iphone, не проходит оплата",
        "оплачивать mir pay iphone не_проходить оплата",
    ),
    # agent shorthand, third person
    ("кл. не может войти в ЛК", "клиент не_мочь войти лк"),
    ("КК заблок.", "кк заблокировать"),
    (
        "Кл-т просит разблок. КК, тел. 8(916)1234567",
        "клиент просить разблокировать кк телефон phonetoken",
    ),
    (
        "Кл. сообщил что смс не приходит, перезагрузка не помогла",
        "клиент сообщить смс не_приходить перезагрузка не_помочь",
    ),
    (
        "У клиента списали комиссию 2 раза, просит вернуть",
        "клиент списать комиссия 2 раз просить вернуть",
    ),
    ("Оператор бросил трубку и не перезвонил", "оператор бросить трубка не_перезвонить"),
    # markup, quoted replies, placeholders, sums
    (
        '<p>Добрый&nbsp;день!</p><p>Не&nbsp;приходит <span style="color:red">код</span></p><br>',
        "не_приходить код",
    ),
    ("Не приходит код\n> Здравствуйте, чем помочь?\n> Оператор", "не_приходить код"),
    (
        "Спасибо, не помогло\n\nпн, 2 нояб. 2026 г. в 14:05, Банк <support@bank.ru>:\n> Ок",
        "не_помочь",
    ),
    (
        "не дозвониться в отделение, звоню на +7 (916) 123-45-67",
        "не_дозвониться отделение звонить phonetoken",
    ),
    ("Перевел 5 000 руб, а дошло 1200р", "перевести sumtoken дойти sumtoken"),
    ("карта 4276 3800 1234 5678 не работает", "карта cardtoken не_работать"),
    # known misses
    known_miss(
        "SMS не приходит",
        "смс не_приходить",
        "Latin words are not transliterated: 'sms' stays a token apart from 'смс'",
    ),
    known_miss(
        "Не пришол код потверждения",
        "не_прийти код подтверждение",
        "typos are not corrected: 'пришол' and 'потверждение' stay unknown words",
    ),
    known_miss(
        "приложуха глючит",
        "приложение глючить",
        "slang: 'приложуха' is guessed as 'приложух', not mapped to 'приложение'",
    ),
    known_miss(
        "приложение лагает",
        "приложение лагать",
        "slang verb: pymorphy3 guesses the noun 'лагаета' for 'лагает'",
    ),
    known_miss(
        "смски не приходят",
        "смс не_приходить",
        "'смски' lemmatises to 'смска', a different token from 'смс'",
    ),
    known_miss(
        "кэшбек не начислили",
        "кешбэк не_начислить",
        "spelling variants 'кэшбек'/'кешбек'/'кешбэк' stay three lemmas",
    ),
]


@pytest.mark.parametrize(("raw", "expected"), LEMMATIZE_CASES)
def test_lemmatize(raw: str, expected: str, lemmatizer: Lemmatizer) -> None:
    assert lemmatizer.lemmatize(raw) == expected


def test_lemmas_returns_the_token_list(lemmatizer: Lemmatizer) -> None:
    assert lemmatizer.lemmas("смс не приходит") == ["смс", "не_приходить"]
    assert lemmatizer.lemmas("не могу войти") == ["не_мочь", "войти"]


def test_lemmatize_of_missing_text_is_empty(lemmatizer: Lemmatizer) -> None:
    assert lemmatizer.lemmatize(None) == ""
    assert lemmatizer.lemmatize(float("nan")) == ""
    assert lemmatizer.lemmatize("") == ""


@pytest.mark.parametrize(
    ("token", "expected"),
    [
        ("приходит", "приходить"),
        ("пришёл", "прийти"),
        ("деньгами", "деньги"),
        ("счёта", "счет"),
        ("sumtoken", "sumtoken"),
        ("iphone", "iphone"),
        ("2026", "2026"),
        ("тел", "телефон"),
    ],
)
def test_lemma_of_one_token(token: str, expected: str, lemmatizer: Lemmatizer) -> None:
    assert lemmatizer.lemma(token) == expected


# --- cache and pickling -------------------------------------------------------------------------


def test_cache_is_hit_on_repeated_tokens(lemmatizer: Lemmatizer) -> None:
    before = lemmatizer.cache_info()
    lemmatizer.lemmatize("перевыпустили перевыпустили перевыпустили")
    after = lemmatizer.cache_info()
    assert after.misses - before.misses == 1
    assert after.hits - before.hits == 2
    assert lemmatizer.cache["перевыпустили"] == "перевыпустить"
    assert after.size == len(lemmatizer.cache)


def test_update_cache_preloads_lemmas(lemmatizer: Lemmatizer) -> None:
    # a persistent cache from an earlier run wins over a fresh parse
    lemmatizer.update_cache({"заблочили": "заблокировать"})
    before = lemmatizer.cache_info()
    assert lemmatizer.lemmatize("карту заблочили") == "карта заблокировать"
    assert lemmatizer.cache_info().hits - before.hits == 2


def test_update_cache_refuses_non_text(lemmatizer: Lemmatizer) -> None:
    with pytest.raises(TypeError, match=r"'смс' -> nan is not str -> str"):
        lemmatizer.update_cache({"смс": float("nan")})
    assert lemmatizer.lemma("смс") == "смс"


def test_pickled_lemmatizer_lemmatizes_the_same(lemmatizer: Lemmatizer) -> None:
    texts = [raw for raw, _ in plain_rows(NORMALIZE_CASES) + plain_rows(LEMMATIZE_CASES)]
    expected = [lemmatizer.lemmatize(text) for text in texts]
    assert all(expected[-len(LEMMATIZE_CASES) :])
    payload = pickle.dumps(lemmatizer)
    assert b"MorphAnalyzer" not in payload  # the analyzer is rebuilt, not shipped
    clone = pickle.loads(payload)
    assert clone.cache == lemmatizer.cache
    assert clone.stopwords == lemmatizer.stopwords
    assert [clone.lemmatize(text) for text in texts] == expected
    # tokens never seen before go through the rebuilt analyzer
    assert clone.lemma("дозвонились") == "дозвониться"


def test_pymorphy3_uses_the_dawg2_c_extension() -> None:
    # the pure-Python reader is about 7x slower: install "dawg2"
    assert dawg_extension_available()


# --- stop-words ---------------------------------------------------------------------------------

REASON_WORDS = ["карта", "код", "перевод", "деньги", "звонок", "день", "смс", "клиент", "почему"]


def test_shipped_stopwords_keep_negations_and_reason_words() -> None:
    stopwords = load_stopwords()
    assert len(stopwords) > 100
    assert not stopwords & NEGATIONS
    assert not stopwords & set(REASON_WORDS)
    assert {"я", "в", "и", "же", "здравствуйте", "уже", "снова", "опять"} <= stopwords


def test_shipped_stopwords_are_lemmas(lemmatizer: Lemmatizer) -> None:
    # the list is applied after lemmatisation: a word-form there would never match
    not_lemmas = {
        word: lemmatizer.lemma(word) for word in load_stopwords() if lemmatizer.lemma(word) != word
    }
    assert not_lemmas == {}


def test_stopword_file_with_a_negation_is_refused(tmp_path) -> None:
    path = tmp_path / "stop.txt"
    path.write_text("# custom\nи\nне  # oops\n", encoding="utf-8")
    with pytest.raises(ValueError, match=r"stop\.txt: stop-words must not include negations"):
        load_stopwords(path)


def test_stopword_file_with_two_words_on_a_line_is_refused(tmp_path) -> None:
    path = tmp_path / "stop.txt"
    path.write_text("и\nдобрый день\n", encoding="utf-8")
    with pytest.raises(ValueError, match=r"stop\.txt, line 2: 'добрый день' is not a single"):
        load_stopwords(path)


def test_lemmatizer_refuses_negations_as_stopwords() -> None:
    with pytest.raises(ValueError, match=r"negations \['не'\]"):
        Lemmatizer(stopwords=["и", "не"])


# --- mask_personal_data -------------------------------------------------------------------------

MASK_CASES = [
    # cards
    ("Карта 4276 3800 1234 5678 ЗАБЛОКИРОВАНА!!!", "Карта [карта] ЗАБЛОКИРОВАНА!!!"),
    ("номер карты 4276380012345678", "номер карты [карта]"),
    ("карта 4276-3800-1234-5678-901", "карта [карта]"),
    ("Amex 3782 822463 10005", "Amex [карта]"),
    # phones in three formats, plus a free-phone and another country
    ("Звоните: +7 (916) 123-45-67.", "Звоните: [телефон]."),
    ("звоните 8 916 123 45 67, или 89161234567", "звоните [телефон], или [телефон]"),
    ("тел. 9161234567", "тел. [телефон]"),
    ("8-800-555-35-35 не отвечает", "[телефон] не отвечает"),
    ("+375 29 123-45-67 (Минск)", "[телефон] (Минск)"),
    # e-mail
    ("Пишите Ivan.Petrov@Mail.ru!", "Пишите [e-mail]!"),
    # passports
    ("Паспорт: 45 12 345678, выдан", "Паспорт: [паспорт], выдан"),
    ("паспорт 4512345678", "паспорт [паспорт]"),
    ("серия 45 12 номер 345678", "серия [паспорт]"),
    ("данные 4512 345678", "данные [паспорт]"),
    # accounts
    ("Счёт 40817810099991234567 арестован", "Счёт [счёт] арестован"),
    ("счет 40817 810 0 9999 1234567", "счет [счёт]"),
    # sums, dates, times and short numbers stay as written
    ("Перевел 5 000 руб 02.11.2026 в 14:05", "Перевел 5 000 руб 02.11.2026 в 14:05"),
    ("Списали 1 500 000 руб. со счета", "Списали 1 500 000 руб. со счета"),
    ("сумма 15000 рублей, заявка № 12345", "сумма 15000 рублей, заявка № 12345"),
    ("Звонил 3 раза, 2026-11-02, ответа нет :(", "Звонил 3 раза, 2026-11-02, ответа нет :("),
    # all together, case and punctuation kept
    (
        "Добрый день! Моя карта 4276 3800 1234 5678, тел. +7 916 123-45-67, "
        "почта ivan@mail.ru. Списали 300 р. 02.11.2026!!!",
        "Добрый день! Моя карта [карта], тел. [телефон], почта [e-mail]. "
        "Списали 300 р. 02.11.2026!!!",
    ),
]


@pytest.mark.parametrize(("raw", "expected"), MASK_CASES)
def test_mask_personal_data(raw: str, expected: str) -> None:
    assert mask_personal_data(raw) == expected


def test_mask_personal_data_of_missing_text_is_empty() -> None:
    assert mask_personal_data(None) == ""
    assert mask_personal_data(float("nan")) == ""


@pytest.mark.parametrize(
    ("text", "masked"),
    [
        ("СНИЛС 123-456-789 01, спасибо", "СНИЛС [СНИЛС], спасибо"),
        ("мой снилс: 12345678901", "мой снилс: [СНИЛС]"),
        ("номер 123-456-789 01 в анкете", "номер [СНИЛС] в анкете"),
        ("ИНН 7707083893 организации", "ИНН [ИНН] организации"),
        ("инн: 500100732259", "инн: [ИНН]"),
        ("паспорт серии 4512 № 345678 выдан", "паспорт серии [паспорт] выдан"),
        ("серию 45 12 номер 345678 указал", "серию [паспорт] указал"),
        # not personal: sums, dates, a short order id
        ("списали 1 500 000 руб 17.11.2026", "списали 1 500 000 руб 17.11.2026"),
        ("заказ 123456 от 3 ноября", "заказ 123456 от 3 ноября"),
    ],
)
def test_snils_inn_and_worded_passports_are_masked(text, masked):
    assert mask_personal_data(text) == masked


@pytest.mark.parametrize(
    ("text", "masked"),
    [
        # full names, with or without a patronymic, in any order, with initials
        ("Оператор Иванова Мария Сергеевна нагрубила", "Оператор [ФИО] нагрубила"),
        ("Мария Иванова обещала перезвонить", "[ФИО] обещала перезвонить"),
        ("Петров И.И. обещал перезвонить завтра", "[ФИО] обещал перезвонить завтра"),
        ("жалоба на И. П. Сидорова из отделения", "жалоба на [ФИО] из отделения"),
        ("менеджер Ольга сказала ждать", "менеджер [ФИО] сказала ждать"),
        # a first name that is also a noun counts only after a word that introduces a person
        ("Меня зовут Вера, карта не пришла", "Меня зовут [ФИО], карта не пришла"),
        ("Вера в банк пропала совсем", "Вера в банк пропала совсем"),
        ("Надежда на возврат денег есть", "Надежда на возврат денег есть"),
        # brands, products and places are not people
        (
            "Карта Юнион Пэй не работает, Тинькофф лучше",
            "Карта Юнион Пэй не работает, Тинькофф лучше",
        ),
        ("Сбербанк Онлайн и Мир Пэй не открываются", "Сбербанк Онлайн и Мир Пэй не открываются"),
        ("перевод в Москву не дошёл", "перевод в Москву не дошёл"),
        # street addresses: street type, its name, house, building and flat numbers
        (
            "Проживаю: г. Москва, ул. 8 Марта, д. 5, кв. 12",
            "Проживаю: г. Москва, ул. 8 Марта, [адрес]",
        ),
        ("курьер не приехал на ул. Ленина 15к2", "курьер не приехал на ул. Ленина [адрес]"),
        (
            "доставка на Ленинский проспект 12 не пришла",
            "доставка на Ленинский проспект [адрес] не пришла",
        ),
        (
            "отделение на Московском шоссе, 27 закрыто",
            "отделение на Московском шоссе, [адрес] закрыто",
        ),
        ("привезите в дом 5 квартира 12", "привезите в [адрес]"),
        # a street without a house is a place; a street named after a person is not a name
        ("яма на ул. Гагарина у школы", "яма на ул. Гагарина у школы"),
        ("на улице Володи Головатого нет света", "на улице Володи Головатого нет света"),
        # common words after a street-type word are not addresses
        ("на улице холодно, банкомат не работает", "на улице холодно, банкомат не работает"),
        ("оплатил проезд картой", "оплатил проезд картой"),
    ],
)
def test_full_names_and_street_addresses_are_masked(text, masked):
    assert mask_personal_data(text) == masked


PERSONAL_TEXTS = [
    "Оператор Иванова Мария Сергеевна нагрубила, ул. Ленина, д. 5, кв. 12.",
    "СНИЛС 123-456-789 01, ИНН 771234567890, паспорт серии 4512 № 345678",
    "Карта 4276 3800 1234 5678, звоните 8-916-123-45-67. Сумма 5 000 руб",
    "пн, 2 нояб. 2026 г. в 14:05, Иван Петров <ivan@mail.ru>:\n> старое письмо\nновое",
    "Счёт 40817810099991234567 арестован, пишите Ivan.Petrov@Mail.ru",
    "меня зовут Вера, пишу из Москвы. Петров И.И. обещал перезвонить",
]


@pytest.mark.parametrize("text", PERSONAL_TEXTS)
def test_masking_is_idempotent_and_does_not_change_the_features(text):
    """Ingest stores texts masked; the model must see the same text either way."""
    masked = mask_personal_data(text)
    assert mask_personal_data(masked) == masked
    assert normalize(masked) == normalize(text)
    for value in ("Иванова", "Мария", "д. 5", "кв. 12", "123-456-789", "771234567890", "345678"):
        assert value.lower() not in normalize(text)
