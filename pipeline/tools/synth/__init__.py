"""Deterministic demo exports of a retail bank contact centre (``python -m pipeline synth``).

Writes what real systems export, in their different formats:

* ``calls/telephony_<week>.csv``: telephony, ``;``-separated Windows-1251, ``DD.MM.YYYY HH:MM``
  dates, agent notes in operator shorthand;
* ``complaints/crm_<week>.csv``: CRM requests (e-mail, web form, chat, branch), UTF-8 with BOM,
  ISO dates; each export repeats the previous Sunday, as overlapping exports do;
* ``complaints/servicedesk_<week>.jsonl``: service desk and social media, JSON lines, ISO 8601
  with offset;
* ``handoffs/crm_events_<week>.csv``: CRM hand-off events (transfers to the owning department,
  promised call-backs and what became of them), UTF-8 with BOM, ``DD.MM.YYYY HH:MM`` dates;
* ``drivers.csv``: active customers per week.

Texts come from the phrase bank ``synth_phrases.yaml`` with client-voice noise (typos,
caps, emoji, no punctuation, Latin look-alikes, rambling backstory). The stories the reports must
reveal are planted on purpose and listed in ``stories.STORIES``. The true reason of every contact
goes to a separate answer file, never an input of the pipeline, and the deliberately malformed
rows to a manifest, so tests can check classification and quarantine end to end.

Modules: ``stories`` (the planted stories and the contact centre), ``text`` (phrase bank and
noise), ``contacts`` (the generator), ``exports`` (the files in each system's format),
``handoffs`` (the hand-off events, with a random generator of their own).
"""

from __future__ import annotations

import argparse
import csv
import io
import logging
from datetime import date
from pathlib import Path

import yaml

from pipeline.io import outputs
from pipeline.tools.synth.contacts import Generator, load_reasons
from pipeline.tools.synth.exports import answers_csv, drivers_csv, render_files
from pipeline.tools.synth.handoffs import handoff_files
from pipeline.tools.synth.text import load_phrases

logger = logging.getLogger(__name__)


def generate_files(
    taxonomy_path: Path, weeks: int, contacts: int, seed: int, end: date, clean: bool = False
) -> dict[str, bytes]:
    """All demo files as name -> bytes (pure: no file is written)."""
    taxonomy = yaml.safe_load(Path(taxonomy_path).read_text(encoding="utf-8"))
    titles = {o["id"]: o["title"] for o in taxonomy.get("owners", [])}
    gen = Generator(load_reasons(taxonomy_path), load_phrases(), weeks, contacts, seed, end)
    generated = gen.generate()
    raw, manifest = render_files(generated, gen.week_starts, titles, clean, gen.rng)
    raw["drivers.csv"] = drivers_csv(gen.week_starts, gen.rng)
    events, bad_events = handoff_files(
        generated, gen.week_starts, titles, gen.owner, gen.calendar, seed, clean
    )
    raw.update(events)
    manifest += bad_events
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, ["file", "line", "reason_code"], lineterminator="\n")
    writer.writeheader()
    writer.writerows(manifest)
    return {
        **{f"raw/{name}": data for name, data in raw.items()},
        "answers": answers_csv(generated),
        "malformed": buffer.getvalue().encode("utf-8"),
    }


def main(
    out_dir: Path,
    answers_path: Path,
    taxonomy_path: Path,
    weeks: int,
    contacts: int,
    seed: int,
    end: str,
    clean: bool = False,
) -> None:
    files = generate_files(taxonomy_path, weeks, contacts, seed, date.fromisoformat(end), clean)
    with outputs.OutputSet() as out:
        for name, content in files.items():
            if name.startswith("raw/"):
                path = out_dir / name.removeprefix("raw/")
            elif name == "answers":
                path = answers_path
            else:
                path = answers_path.with_name("malformed_rows.csv")
            out.write(path, outputs.data(content))
        written = set(out.paths)
    # the exports of an earlier run this one did not write again
    for sub in ("calls", "complaints", "handoffs"):
        for old in (out_dir / sub).glob("*"):
            if old.is_file() and not old.name.startswith(".") and old not in written:
                old.unlink()
    logger.info(
        "synth: wrote %d files to %s and answers to %s", len(written), out_dir, answers_path
    )


def cli(args: argparse.Namespace) -> None:
    main(
        out_dir=args.out,
        answers_path=args.answers,
        taxonomy_path=args.taxonomy,
        weeks=args.weeks,
        contacts=args.contacts,
        seed=args.seed,
        end=args.end,
        clean=args.clean,
    )
