"""Contact texts: phrase-bank templates filled, with the noise of real client and agent texts
(typos, caps, emoji, no punctuation, Latin look-alikes, rambling backstory, personal data)."""

from __future__ import annotations

import random
from importlib import resources

import yaml

EMOJI = ("😡", "😤", "🙏", "😢", "🤬", "👎", "😭", "🤷‍♀️", "❗", "😠")
MISSPELLINGS = {
    "здравствуйте": "здраствуйте",
    "пожалуйста": "пожалуйсто",
    "деньги": "денги",
    "вообще": "вобще",
    "потому что": "потомучто",
    "сегодня": "седня",
    "что-то": "чтото",
    "кредит": "кридит",
    "приложение": "преложение",
    "заблокировали": "заблакировали",
    "сейчас": "щас",
    "звонил": "звонил",
    "карточку": "карточьку",
    "позвонить": "пазвонить",
    "проблема": "праблема",
}
LOOKALIKES = {"а": "a", "е": "e", "о": "o", "р": "p", "с": "c", "х": "x", "у": "y"}
AGENT_SUFFIXES = (
    "обр. зарег.",
    "консульт. предоставлена",
    "перевод на 2Л",
    "кл. недоволен",
    "инфо предоставлена",
    "заявка создана",
    "",
)


def load_phrases() -> dict:
    text = resources.files(__package__).joinpath("synth_phrases.yaml").read_text("utf-8")
    return yaml.safe_load(text)


class TextMaker:
    """Fills phrase-bank templates and adds the noise of real client and agent texts."""

    def __init__(self, phrases: dict, rng: random.Random):
        self.phrases = phrases
        self.rng = rng

    def fill(self, template: str) -> str:
        slots = self.phrases["slots"]
        out = template
        for name, values in slots.items():
            token = "{" + name + "}"
            while token in out:
                out = out.replace(token, self.rng.choice(values), 1)
        return out

    def client(self, templates: list[str], repeat: bool = False) -> str:
        rng = self.rng
        body = self.fill(rng.choice(templates))
        parts = []
        roll = rng.random()
        if roll < 0.3:  # rambling
            parts.append(rng.choice(self.phrases["openers"]))
            parts.extend(rng.sample(self.phrases["backstory"], k=rng.randint(1, 3)))
            parts.append(body)
            if repeat:
                parts.append("Обращаюсь уже не первый раз!")
            parts.append(rng.choice(self.phrases["closers"]))
        elif roll < 0.55:  # bare one-liner
            parts.append(body)
        else:
            if rng.random() < 0.6:
                parts.append(rng.choice(self.phrases["openers"]))
            if repeat:
                parts.append(rng.choice(["Пишу повторно.", "Уже обращался, ничего не решено."]))
            parts.append(body)
            if rng.random() < 0.5:
                parts.append(rng.choice(self.phrases["closers"]))
        text = " ".join(p.strip() for p in parts if p.strip())
        return self.noise(text)

    def noise(self, text: str) -> str:
        rng = self.rng
        if rng.random() < 0.35:
            for right, wrong in MISSPELLINGS.items():
                if right in text.lower() and rng.random() < 0.6:
                    text = text.replace(right, wrong).replace(
                        right.capitalize(), wrong.capitalize()
                    )
        if rng.random() < 0.3:
            text = self.typo(text)
        if rng.random() < 0.5:
            text = text.replace("ё", "е")
        if rng.random() < 0.25:
            text = "".join(ch for ch in text if ch not in ".,!?;:").lower()
        if rng.random() < 0.07:
            text = text.upper()
        elif rng.random() < 0.1:
            words = text.split()
            if words:
                i = rng.randrange(len(words))
                words[i] = words[i].upper()
                text = " ".join(words)
        if rng.random() < 0.04:
            text = "".join(
                LOOKALIKES[ch] if ch in LOOKALIKES and rng.random() < 0.3 else ch for ch in text
            )
        if rng.random() < 0.12:
            text += " " + "".join(rng.choice(EMOJI) for _ in range(rng.randint(1, 3)))
        if rng.random() < 0.08:
            text += rng.choice(["!!!", "!!", "???", "..."])
        if rng.random() < 0.03:
            text += rng.choice(
                [
                    " Мой телефон +7 916 {:03d}-{:02d}-{:02d}.".format(  # noqa: UP032
                        rng.randrange(1000), rng.randrange(100), rng.randrange(100)
                    ),
                    " Карта 2200 7001 {:04d} {:04d}.".format(  # noqa: UP032
                        rng.randrange(10000), rng.randrange(10000)
                    ),
                    " Пишите на почту ivan.{}@example.ru".format(rng.randrange(1000)),  # noqa: UP032
                ]
            )
        return text

    def typo(self, text: str) -> str:
        rng = self.rng
        words = text.split(" ")
        candidates = [i for i, w in enumerate(words) if len(w) >= 6 and w.isalpha()]
        for i in rng.sample(candidates, k=min(len(candidates), rng.randint(1, 2))):
            w = words[i]
            j = rng.randrange(1, len(w) - 1)
            op = rng.random()
            if op < 0.4:
                w = w[:j] + w[j + 1 :]  # dropped letter
            elif op < 0.7:
                w = w[:j] + w[j + 1] + w[j] + w[j + 2 :]  # swapped letters
            else:
                w = w[:j] + w[j] + w[j:]  # doubled letter
            words[i] = w
        return " ".join(words)

    def agent(self, templates: list[str], repeat: bool = False) -> str:
        rng = self.rng
        text = self.fill(rng.choice(templates))
        if repeat and rng.random() < 0.7:
            text = rng.choice(["повторное обр., ", "кл. звонит повторно, ", "повторно: "]) + text
        suffix = rng.choice(AGENT_SUFFIXES)
        if suffix and rng.random() < 0.5:
            text = f"{text}, {suffix}"
        if rng.random() < 0.15:
            text = self.typo(text)
        return text
