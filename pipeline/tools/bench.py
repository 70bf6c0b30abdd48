"""Speed and memory benchmark of lemmatize + classify (``python -m pipeline bench``).

Generates N demo contacts with the demo generator, then times, each in a fresh process so peak
memory (max RSS) is the step's own:

* lemmatize with a cold cache (new Lemmatizer), the way the first weekly run works;
* lemmatize with a warm cache (preloaded with the cold run's tokens), the way later runs work;
* a naive baseline: ``MorphAnalyzer.parse`` for every token, no cache and no de-duplication of
  texts (measured on a sample and reported per contact);
* classify with the trained model (``models/reason_classifier.joblib`` or, if absent, a model
  fitted on ``taxonomy/labels`` first).
"""

from __future__ import annotations

import argparse
import json
import multiprocessing
import resource
import time
from datetime import date
from pathlib import Path

import pandas as pd

from pipeline.io import outputs

DEFAULT_MODEL = Path("models/reason_classifier.joblib")


def _max_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def _generate(n: int, taxonomy: Path, seed: int) -> pd.DataFrame:
    from pipeline.tools.synth.contacts import Generator, load_reasons
    from pipeline.tools.synth.text import load_phrases

    gen = Generator(
        load_reasons(taxonomy),
        load_phrases(),
        weeks=13,
        contacts=n,
        seed=seed,
        end=date(2026, 11, 22),
    )
    contacts = gen.generate()
    return pd.DataFrame(
        {"contact_id": [c.contact_id for c in contacts], "text": [c.text for c in contacts]}
    )


def _step_lemmatize(args):
    texts_path, cache_path, out_path = args
    from pipeline.text import Lemmatizer
    from pipeline.text.batch import lemmatize_frame, load_cache, save_cache

    contacts = pd.read_parquet(texts_path)
    lemmatizer = Lemmatizer()
    if cache_path.exists():
        lemmatizer.update_cache(load_cache(cache_path))
    start = time.perf_counter()
    lemmas = lemmatize_frame(contacts, lemmatizer)
    seconds = time.perf_counter() - start
    if not cache_path.exists():
        save_cache(lemmatizer.cache, cache_path)
    lemmas.to_parquet(out_path, index=False)
    info = lemmatizer.cache_info()
    return {
        "seconds": seconds,
        "max_rss_mb": _max_rss_mb(),
        "contacts": len(contacts),
        "cache_hits": info.hits,
        "cache_misses": info.misses,
    }


def _step_naive(args):
    texts_path, sample = args
    import pymorphy3

    from pipeline.text import attach_negations, normalize, tokenize

    texts = pd.read_parquet(texts_path)["text"].head(sample).tolist()
    morph = pymorphy3.MorphAnalyzer()
    start = time.perf_counter()
    for text in texts:
        attach_negations(morph.parse(token)[0].normal_form for token in tokenize(normalize(text)))
    seconds = time.perf_counter() - start
    return {"seconds": seconds, "max_rss_mb": _max_rss_mb(), "contacts": len(texts)}


def _step_classify(args):
    lemmas_path, model_path = args
    from pipeline.model.predict import classify_frame, load_model

    lemmas = pd.read_parquet(lemmas_path)
    pipeline = load_model(model_path)
    start = time.perf_counter()
    classified = classify_frame(lemmas, pipeline)
    seconds = time.perf_counter() - start
    return {"seconds": seconds, "max_rss_mb": _max_rss_mb(), "contacts": len(classified)}


def _in_fresh_process(func, args):
    ctx = multiprocessing.get_context("spawn")
    with ctx.Pool(1) as pool:
        return pool.apply(func, (args,))


def main(
    contacts: int,
    workdir: Path,
    taxonomy: Path,
    labels: Path,
    model_path: Path | None,
    naive_sample: int,
    out: Path | None,
    seed: int = 7,
) -> dict:
    workdir.mkdir(parents=True, exist_ok=True)
    texts_path = workdir / "texts.parquet"
    cache_path = workdir / "lemma_cache.parquet"
    lemmas_path = workdir / "lemmas.parquet"
    cache_path.unlink(missing_ok=True)
    frame = _generate(contacts, taxonomy, seed)
    frame.to_parquet(texts_path, index=False)
    if model_path is None or not model_path.exists():
        from pipeline import train  # the stage: bench times it end to end

        model_path = workdir / "model.joblib"
        train.main(
            taxonomy,
            labels,
            model_path,
            workdir / "model.json",
            workdir / "conf.csv",
            train.TrainConfig(),
        )
    results = {
        "contacts": len(frame),
        "distinct_texts": int(frame["text"].nunique()),
        "lemmatize_cold": _in_fresh_process(
            _step_lemmatize, (texts_path, cache_path, lemmas_path)
        ),
        "lemmatize_warm": _in_fresh_process(
            _step_lemmatize, (texts_path, cache_path, lemmas_path)
        ),
        "naive_parse_per_token": _in_fresh_process(_step_naive, (texts_path, naive_sample)),
        "classify": _in_fresh_process(_step_classify, (lemmas_path, model_path)),
    }
    for step in ("lemmatize_cold", "lemmatize_warm", "naive_parse_per_token", "classify"):
        info = results[step]
        info["contacts_per_s"] = round(info["contacts"] / info["seconds"])
        info["seconds"] = round(info["seconds"], 2)
        info["max_rss_mb"] = round(info["max_rss_mb"])
    print(f"{results['contacts']} contacts, {results['distinct_texts']} distinct texts")
    print(f"{'step':<24}{'contacts/s':>12}{'seconds':>10}{'max RSS, MB':>13}")
    for step in ("lemmatize_cold", "lemmatize_warm", "naive_parse_per_token", "classify"):
        info = results[step]
        print(
            f"{step:<24}{info['contacts_per_s']:>12,}{info['seconds']:>10}{info['max_rss_mb']:>13}"
        )
    if out is not None:
        outputs.write(out, outputs.text(json.dumps(results, indent=2) + "\n"))
    return results


def cli(args: argparse.Namespace) -> None:
    main(
        args.contacts,
        args.workdir,
        args.taxonomy,
        args.labels,
        args.model,
        args.naive_sample,
        args.out,
    )
