"""Realistic-scale exports for the scale benchmark (benchmarks/scale.py).

The demo generator (``pipeline.tools.synth``) plants the stories the reports must find, but its
texts repeat: the phrase bank has a few hundred sentences, so 1.17 M contacts hold 464 k distinct
texts, while real contact texts are nearly all distinct. Lemmatize and classify cost follows the
distinct texts, so a benchmark on the demo texts flatters them.

Here the demo generator makes a small base of contacts (about ``BASE_PER_WEEK`` a week: moments,
queues, outcomes, transfers, resolutions, repeats and stories), each week's base is tiled up to
the wanted volume (replica ``k`` of a contact gets its own contact and customer id, so repeats
stay repeats), and every contact gets a new text built from its reason's phrases:

* client complaints: one sentence (30 %), a few sentences with opener, backstory, extra clauses of
  the same reason and closer (65 %), or a long letter of 100-300 words (5 %);
* agent notes: 3-15 words of shorthand ("кл.", "обр.", "МП"), cut from the reason's notes;
* in both: numbers (amounts, dates, times, contract, card and ticket numbers), names, typos,
  swapped words, dropped punctuation, caps, emoji.

Random draws are numpy arrays made once per week; the per-contact Python only joins ready
strings. The files are written by the demo generator's own row functions (``exports``), in its
formats: ``calls/telephony_<week>.csv`` (``;``, Windows-1251), ``complaints/crm_<week>.csv``
(UTF-8 with BOM), ``complaints/servicedesk_<week>.jsonl`` and ``drivers.csv``; as with
``synth --clean``, no malformed rows are planted and CRM exports do not overlap.
"""

from __future__ import annotations

import json
import math
import random
import re
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from pathlib import Path

import numpy as np
import yaml

from pipeline.io.weeks import week_of
from pipeline.tools.synth.contacts import Contact, Generator, load_reasons
from pipeline.tools.synth.exports import (
    CALL_HEADER,
    CRM_HEADER,
    _csv_text,
    call_rows,
    crm_rows,
    desk_lines,
    drivers_csv,
)
from pipeline.tools.synth.stories import DESK_CHANNELS
from pipeline.tools.synth.text import AGENT_SUFFIXES, EMOJI, MISSPELLINGS, TextMaker, load_phrases

BASE_PER_WEEK = 20_000  # demo-generator contacts per week that are tiled up to the volume
MIN_GENERATOR_WEEKS = 8  # the generator's planted stories need this many weeks
FILLS_PER_TEMPLATE = 6  # slot fillings of each phrase-bank template

FIRST_NAMES = (
    "Александр Алексей Андрей Анна Антон Валентина Виктор Галина Дмитрий Екатерина Елена "
    "Иван Ирина Константин Людмила Марина Мария Михаил Наталья Никита Нина Олег Ольга Павел "
    "Роман Светлана Сергей Татьяна Юлия Юрий"
).split()
PATRONYMICS = (
    "Александрович Алексеевна Андреевич Борисовна Викторович Владимировна Геннадьевич "
    "Дмитриевна Евгеньевич Ивановна Игоревич Михайловна Николаевич Олеговна Петрович "
    "Сергеевна Юрьевич Анатольевна"
).split()
SURNAMES = (
    "Иванов Петрова Смирнов Кузнецова Попов Васильева Соколов Михайлова Новиков Фёдорова "
    "Морозов Волкова Алексеев Лебедева Семёнов Егорова Павлов Козлова Степанов Николаева "
    "Орлов Андреева Макаров Захарова Зайцев Соловьёва Борисов Яковлева Григорьев Романова"
).split()
MONTHS = (
    "января февраля марта апреля мая июня июля августа сентября октября ноября декабря"
).split()
# "клиент не может войти в приложение" -> "кл. не может войти в МП"
SHORTHAND = {
    "клиент": "кл.",
    "клиента": "кл.",
    "клиенту": "кл.",
    "обращение": "обр.",
    "приложение": "МП",
    "приложении": "МП",
    "телефон": "тел.",
    "телефона": "тел.",
    "консультация": "консульт.",
    "рекомендовано": "рекоменд.",
    "подтверждения": "подтв.",
    "уведомления": "уведомл.",
    "договор": "дог.",
    "договору": "дог.",
    "отделение": "отд.",
    "отделении": "отд.",
    "операция": "опер.",
    "операции": "опер.",
    "информация": "инфо",
    "карта": "кт",
    "карту": "кт",
    "карты": "кт",
    "перевод": "пер.",
    "сотрудник": "сотр.",
    "личный": "лич.",
    "кабинет": "каб.",
}
REPEAT_CLIENT = (
    "Пишу повторно.",
    "Уже обращался, ничего не решено.",
    "Обращаюсь уже не первый раз!",
    "Это моё третье обращение.",
    "В прошлый раз мне обещали перезвонить и не перезвонили.",
)
REPEAT_AGENT = ("повторное обр.,", "кл. звонит повторно,", "повторно:", "повт.", "2-е обр.")
EXTRA_AGENT = (
    "кл. ждет ответа",
    "передано на 2Л",
    "жалоба зарег.",
    "кл. настаивает",
    "callback назначен",
    "кл. предупрежден о сроках",
    "решено на линии",
)
PUNCTUATION = str.maketrans("", "", ".,!?;:«»—")
WORD = re.compile(r"[а-яё]{4,}")
CONTENT = re.compile(r"[а-яё]{5,}")  # a word that can carry a reason: not "кл.", "не", "в"


def _money(r: int) -> str:
    rub = (r % 9_000 + 1) * (10 if r % 3 else 1) + (r >> 14) % 100 * (r % 2)
    forms = (f"{rub} руб", f"{rub} р", f"{rub}р", f"{rub:,} рублей".replace(",", " "))
    return forms[(r >> 7) % 4]


def _date(r: int) -> str:
    day, month = r % 28 + 1, (r >> 5) % 12
    forms = (
        f"{day:02d}.{month + 1:02d}",
        f"{day} {MONTHS[month]}",
        f"{day:02d}.{month + 1:02d}.26",
    )
    return forms[(r >> 9) % 3]


def _time(r: int) -> str:
    return f"{r % 24:02d}:{(r >> 5) % 60:02d}"


def _name(r: int) -> str:
    first = FIRST_NAMES[r % len(FIRST_NAMES)]
    middle = PATRONYMICS[(r >> 5) % len(PATRONYMICS)]
    surname = SURNAMES[(r >> 10) % len(SURNAMES)]
    forms = (f"{first} {middle}", f"{surname} {first[0]}.{middle[0]}.", f"{first}")
    return forms[(r >> 15) % 3]


# client details: each takes one random int and returns a sentence with numbers or a name
CLIENT_DETAILS = (
    lambda r: f"Номер договора {r % 10**9 + 10**9}.",
    lambda r: f"Карта заканчивается на {r % 10_000:04d}.",
    lambda r: f"Сумма {_money(r)}.",
    lambda r: f"Это было {_date(r)} примерно в {_time(r >> 3)}.",
    lambda r: f"Меня зовут {_name(r)}.",
    lambda r: f"Номер заявки {r % 10**7 + 10**6}, ответа нет.",
    lambda r: f"Звонила {_date(r)}, оператор {_name(r >> 2)} обещал перезвонить.",
    lambda r: f"Мой телефон +7 9{r % 100:02d} {(r >> 7) % 1000:03d}-{(r >> 17) % 100:02d}-xx.",
    lambda r: f"С меня уже списали {_money(r)}, хотя я ничего не подтверждала.",
    lambda r: f"Жду уже {r % 20 + 2} дней.",
    lambda r: f"Договор № {r % 10**6:06d}/{(r >> 20) % 100:02d} от {_date(r >> 4)}.",
    lambda r: f"Остаток на счете был {_money(r)}.",
)
# agent details: a few words of shorthand with a number or a name
AGENT_DETAILS = (
    lambda r: f"дог. {r % 10**9 + 10**9}",
    lambda r: f"сумма {_money(r)}",
    lambda r: f"от {_date(r)}",
    lambda r: f"кл. {SURNAMES[r % len(SURNAMES)]} {FIRST_NAMES[(r >> 5) % 30][0]}.",
    lambda r: f"заявка №{r % 10**7 + 10**6}",
    lambda r: f"кт *{r % 10_000:04d}",
    lambda r: f"тел. *{r % 10_000:04d}",
    lambda r: f"в {_time(r)}",
)


def _typo(words: list[str], r: int) -> None:
    """One misspelt word in place: dropped, swapped or doubled letter, as in ``TextMaker``."""
    long = [i for i, w in enumerate(words) if len(w) >= 6]
    if not long:
        return
    i = long[r % len(long)]
    w = words[i]
    j = 1 + (r >> 6) % (len(w) - 2)
    op = (r >> 12) % 3
    if op == 0:
        words[i] = w[:j] + w[j + 1 :]
    elif op == 1:
        words[i] = w[:j] + w[j + 1] + w[j] + w[j + 2 :]
    else:
        words[i] = w[:j] + w[j] + w[j:]


def _second_content_word(text: str) -> int:
    """Index of the second word of 5+ letters that shorthand does not abbreviate (or the last)."""
    words = text.split()
    found = [
        i
        for i, w in enumerate(words)
        if CONTENT.fullmatch(w.lower().strip(",.;:«»")) and w not in SHORTHAND
    ]
    return found[1] if len(found) > 1 else len(words) - 1


def _misspell(text: str) -> str:
    for right, wrong in MISSPELLINGS.items():
        if right in text:
            text = text.replace(right, wrong)
    return text


class TextDiversifier:
    """New, nearly always distinct texts in a reason's words (see the module docstring).

    ``groups`` lists the template groups (one per reason or planted story and voice); the
    generator's contacts map to them with ``group_of``.
    """

    def __init__(self, phrases: dict, seed: int):
        rng = random.Random(seed)
        maker = TextMaker(phrases, rng)
        stories = phrases["stories"]
        sources = {}
        for reason, templates in phrases["reasons"].items():
            sources[(reason, "client")] = templates["client"]
            sources[(reason, "agent")] = templates["agent"]
        for story in ("spike", "emerging"):
            key = {"spike": "sms_spike", "emerging": "emerging"}[story]
            sources[(f"story:{story}", "client")] = stories[f"{key}_client"]
            sources[(f"story:{story}", "agent")] = stories[f"{key}_agent"]
        sources[("story:offtopic", "client")] = stories["offtopic_client"]
        sources[("story:offtopic", "agent")] = stories["offtopic_client"]
        self.groups = list(sources)
        self.index = {key: i for i, key in enumerate(self.groups)}
        self.templates = [sources[key] for key in self.groups]
        # each template filled a few times: slot values ({sum}, {city}, ...) vary
        self.pools = [
            [maker.fill(t) for t in templates for _ in range(FILLS_PER_TEMPLATE)]
            for templates in self.templates
        ]
        # agent notes are cut after their second content word at the earliest, so that a cut
        # note (and one typo in it) still says what the contact is about
        self.min_cut = [[_second_content_word(text) + 1 for text in pool] for pool in self.pools]
        self.openers = phrases["openers"]
        self.closers = phrases["closers"]
        self.backstory = phrases["backstory"]
        self.suffixes = [s for s in AGENT_SUFFIXES if s]

    def group_of(self, contact: Contact) -> int:
        """The template group ``Generator.make_contact`` draws this contact's text from."""
        voice = "agent" if contact.kind == "call" else "client"
        if contact.story in ("spike", "emerging", "offtopic"):
            return self.index[(f"story:{contact.story}", voice)]
        return self.index[(contact.reason_id, voice)]

    def texts(
        self, groups: np.ndarray, is_call: np.ndarray, repeat: np.ndarray, rng: np.random.Generator
    ) -> list[str]:
        """One text per contact; ``groups`` from ``group_of``, all arrays of equal length."""
        n = len(groups)
        uniform = rng.random((n, 12)).tolist()
        ints = rng.integers(0, 2**62, size=(n, 6)).tolist()
        client, agent = self._client, self._agent
        return [
            agent(g, rep, u, r) if call else client(g, rep, u, r)
            for g, call, rep, u, r in zip(
                groups.tolist(), is_call.tolist(), repeat.tolist(), uniform, ints, strict=True
            )
        ]

    def _client(self, group: int, repeat: bool, u: list[float], r: list[int]) -> str:
        pool = self.pools[group]
        body = pool[r[0] % len(pool)]
        if u[6] < 0.2:  # word order: two neighbouring words swapped
            words = body.split()
            if len(words) > 3:
                i = r[1] % (len(words) - 1)
                words[i], words[i + 1] = words[i + 1], words[i]
                body = " ".join(words)
        detail = CLIENT_DETAILS[r[2] % len(CLIENT_DETAILS)](r[3])
        shape = u[0]
        if shape < 0.30:  # one sentence, mostly with a number or a name
            parts = [body, detail] if u[1] < 0.85 else [body]
        elif shape < 0.95:  # a few sentences
            parts = []
            if u[1] < 0.6:
                parts.append(self.openers[r[1] % len(self.openers)])
            if u[2] < 0.4:
                parts.append(self.backstory[r[4] % len(self.backstory)])
            if repeat:
                parts.append(REPEAT_CLIENT[r[4] % len(REPEAT_CLIENT)])
            parts.append(body)
            if u[3] < 0.45:  # another sentence of the same reason
                parts.append(pool[r[5] % len(pool)])
            if u[4] < 0.9:
                parts.append(detail)
            if u[5] < 0.3:
                parts.append(CLIENT_DETAILS[r[4] % len(CLIENT_DETAILS)](r[5]))
            if u[7] < 0.55:
                parts.append(self.closers[r[2] % len(self.closers)])
        else:  # the long tail: a letter of 100-300 words
            parts = self._letter(pool, body, repeat, r)
        text = " ".join(parts)
        return self._noise(text, u, r)

    def _letter(self, pool: list[str], body: str, repeat: bool, r: list[int]) -> list[str]:
        target = 100 + r[1] % 201
        seed = r[3]
        parts = [self.openers[seed % len(self.openers)], body]
        words = sum(len(p.split()) for p in parts)
        step = 0
        while words < target:
            step += 1
            seed = (seed * 6364136223846793005 + 1442695040888963407) % 2**64
            kind = seed % 5
            if kind == 0:
                piece = self.backstory[(seed >> 8) % len(self.backstory)]
            elif kind in (1, 2):
                piece = pool[(seed >> 8) % len(pool)]
            else:
                piece = CLIENT_DETAILS[(seed >> 8) % len(CLIENT_DETAILS)](seed >> 16)
            parts.insert(1 + (seed >> 40) % len(parts), piece)
            words += len(piece.split())
        if repeat:
            parts.append(REPEAT_CLIENT[r[4] % len(REPEAT_CLIENT)])
        parts.append(self.closers[r[2] % len(self.closers)])
        return parts

    def _noise(self, text: str, u: list[float], r: list[int]) -> str:
        if u[8] < 0.3:
            text = _misspell(text)
        if u[9] < 0.35:
            words = text.split(" ")
            _typo(words, r[4] >> 20)
            if u[9] < 0.1:
                _typo(words, r[5] >> 20)
            text = " ".join(words)
        if u[10] < 0.5:
            text = text.replace("ё", "е")
        mood = u[11]
        if mood < 0.2:
            text = text.translate(PUNCTUATION).lower()
        elif mood < 0.24:
            text = text.upper()
        elif mood < 0.34:
            text += " " + EMOJI[r[0] % len(EMOJI)] * (1 + r[1] % 3)
        elif mood < 0.4:
            text += ("!!!", "!!", "???", "...")[r[2] % 4]
        return text

    def _agent(self, group: int, repeat: bool, u: list[float], r: list[int]) -> str:
        pool = self.pools[group]
        item = r[0] % len(pool)
        words = pool[item].split()
        # 3-12 words of the note, the rest left out
        cut = max(3 + r[1] % 10, self.min_cut[group][item])
        if len(words) > cut:
            words = words[:cut]
            words[-1] = words[-1].rstrip(",;")
        if u[0] < 0.5:  # "клиент не может войти в приложение" -> "кл. не может войти в МП"
            words = [SHORTHAND.get(w, w) for w in words]
        if u[1] < 0.15 and len(words) > 3:
            i = r[2] % (len(words) - 1)
            words[i], words[i + 1] = words[i + 1], words[i]
        if u[2] < 0.2:
            _typo(words, r[3] >> 20)
        text = " ".join(words)
        if repeat and u[3] < 0.7:
            text = f"{REPEAT_AGENT[r[4] % len(REPEAT_AGENT)]} {text}"
        if u[4] < 0.85:
            text = f"{text}, {AGENT_DETAILS[r[5] % len(AGENT_DETAILS)](r[2] >> 8)}"
        if u[5] < 0.3:
            text = f"{text}, {self.suffixes[r[3] % len(self.suffixes)]}"
        elif u[5] < 0.4:
            text = f"{text}; {EXTRA_AGENT[r[4] % len(EXTRA_AGENT)]}"
        if u[6] < 0.1:
            text = text.upper() if u[6] < 0.02 else text.lower()
        return text


@dataclass
class WeekBase:
    """One week of the demo generator's contacts and the export rows made from them."""

    start: date
    contacts: list[Contact]


class ScaleData:
    """Exports of ``weeks`` ISO weeks ending with the week of ``last_week``, ``per_week``
    contacts each. Weeks are independent: ``week_files(i)`` gives the same bytes whatever else
    was generated, so a later week can be added to an earlier run's exports."""

    def __init__(self, taxonomy: Path, weeks: int, per_week: int, seed: int, last_week: date):
        taxonomy_data = yaml.safe_load(Path(taxonomy).read_text(encoding="utf-8"))
        self.titles = {o["id"]: o["title"] for o in taxonomy_data.get("owners", [])}
        self.per_week = per_week
        self.seed = seed
        phrases = load_phrases()
        span = max(weeks, MIN_GENERATOR_WEEKS)
        gen = Generator(
            load_reasons(taxonomy), phrases, span, BASE_PER_WEEK * span, seed, last_week
        )
        contacts = gen.generate()
        self.week_starts = gen.week_starts[-weeks:]
        self.all_week_starts = gen.week_starts
        self.bases = []
        for start in self.week_starts:
            end = start + timedelta(days=7)
            in_week = [c for c in contacts if start <= c.created.date() < end]
            self.bases.append(WeekBase(start, in_week))
        self.diversifier = TextDiversifier(phrases, seed)

    def labels(self) -> list[str]:
        return [week_of(start) for start in self.week_starts]

    def week_files(self, i: int) -> dict[str, bytes]:
        """The three exports of week ``i`` (0 = first) as relative path -> bytes."""
        base = self.bases[i]
        contacts = base.contacts
        rng = np.random.default_rng([self.seed, i, base.start.toordinal()])
        replicas = math.ceil(self.per_week / len(contacts))
        if replicas >= 1000:
            raise ValueError(f"{self.per_week} contacts from a base of {len(contacts)}: too many")
        # sorted picks keep the base's time order: replicas of a contact stay together
        picks = np.sort(rng.choice(replicas * len(contacts), self.per_week, replace=False))
        source, replica = picks // replicas, picks % replicas
        div = self.diversifier
        group = np.array([div.group_of(c) for c in contacts])
        is_call = np.array([c.kind == "call" for c in contacts])
        repeat = np.array([c.story == "repeat" for c in contacts])
        texts = div.texts(group[source], is_call[source], repeat[source], rng)

        exported = datetime.combine(base.start + timedelta(days=7), time(0, 0))
        rows: list[list[str] | dict] = []
        for c in contacts:
            if c.kind == "call":
                rows.append(call_rows([c])[0])
            elif c.channel in DESK_CHANNELS:
                rows.append(json.loads(desk_lines([c], self.titles, exported)[0]))
            else:
                rows.append(crm_rows([c], self.titles, exported)[0])
        calls, crm, desk = [], [], []
        for s, k, text in zip(source.tolist(), replica.tolist(), texts, strict=True):
            row = rows[s]
            contact = contacts[s]
            source_id = f"{contact.source_id}{k:03d}"
            customer = f"{contact.customer_id}{k:03d}"
            if isinstance(row, dict):
                item = dict(row, ticket=source_id, client=customer, description=text)
                desk.append(json.dumps(item, ensure_ascii=False))
            elif contact.kind == "call":
                calls.append([source_id, *row[1:8], customer, text])
            else:
                crm.append([source_id, row[1], row[2], customer, text, *row[5:]])
        label = week_of(base.start)
        return {
            f"calls/telephony_{label}.csv": _csv_text(CALL_HEADER, calls, ";").encode(
                "cp1251", errors="replace"
            ),
            f"complaints/crm_{label}.csv": b"\xef\xbb\xbf"
            + _csv_text(CRM_HEADER, crm, ",").encode("utf-8"),
            f"complaints/servicedesk_{label}.jsonl": ("\n".join(desk) + "\n").encode("utf-8"),
        }

    def drivers(self, weeks: list[int]) -> bytes:
        """drivers.csv for the given weeks (0 = first), customers scaled to the volume."""
        lines = drivers_csv(self.all_week_starts, random.Random(self.seed)).decode().splitlines()
        factor = self.per_week / BASE_PER_WEEK
        wanted = {week_of(self.week_starts[i]) for i in weeks}
        out = [lines[0]]
        for line in lines[1:]:
            week, customers = line.split(",")
            if week in wanted:
                out.append(f"{week},{round(int(customers) * factor)}")
        return ("\n".join(out) + "\n").encode("utf-8")


def text_stats(texts: list[str]) -> dict:
    """Distinct share and word-count percentiles of a list of texts."""
    lengths = np.array([len(t.split()) for t in texts])
    percentiles = (5, 25, 50, 75, 95, 99, 100)
    return {
        "texts": len(texts),
        "distinct": len(set(texts)),
        "distinct_share": round(len(set(texts)) / max(len(texts), 1), 4),
        "words_percentiles": {
            f"p{p}": int(v)
            for p, v in zip(percentiles, np.percentile(lengths, percentiles), strict=True)
        },
        "share_over_100_words": round(float((lengths >= 100).mean()), 4),
    }


def reason_words(diversifier: TextDiversifier, group: int) -> set[str]:
    """Words (4+ letters) of a template group's phrases that are not in the shared openers,
    closers and backstory: the words that say what the contact is about."""
    shared = set()
    for text in diversifier.openers + diversifier.closers + diversifier.backstory:
        shared |= set(WORD.findall(text.lower().replace("ё", "е")))
    words = set()
    for text in diversifier.pools[group]:
        words |= set(WORD.findall(text.lower().replace("ё", "е")))
    return words - shared
