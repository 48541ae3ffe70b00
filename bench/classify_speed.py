"""Language detection plus classification speed, training time, artifact size, memory.

    python bench/classify_speed.py [--messages 4000]

Emails are the corpus's test texts cut or repeated to 100 words.  "single" runs the
production path one message at a time (what a worker does); "batched" classifies 256 at
a time.  One core is pinned for the speed figures; training uses both cores.
"""

from __future__ import annotations

import argparse
import os
import platform
import resource
import tempfile
import time
from pathlib import Path

from classifiers.artifacts import MODEL_FILE, load_bundle, save_bundle
from classifiers.train import train_bundle
from triage.language import detect_language
from triage.training import examples_of, load_labeled

ROOT = Path(__file__).resolve().parents[1]
LANGUAGES = ("en", "ru", "es", "de", "fr", "it", "pt", "zh")


def hundred_words(text: str) -> str:
    words = text.split()
    while len(words) < 100:
        words += words
    return " ".join(words[:100])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--messages", type=int, default=4000)
    args = parser.parse_args()
    mails = load_labeled(ROOT / "fixtures" / "corpus")
    train = examples_of([m for m in mails if m.split == "train"])
    test = examples_of([m for m in mails if m.split == "test"])

    start = time.perf_counter()
    bundle = train_bundle(train)
    training_seconds = time.perf_counter() - start
    folder = Path(tempfile.mkdtemp())
    save_bundle(bundle, folder)
    size = (folder / bundle.version / MODEL_FILE).stat().st_size
    model = load_bundle(folder)

    if hasattr(os, "sched_setaffinity"):
        os.sched_setaffinity(0, {min(os.sched_getaffinity(0))})
    texts = [hundred_words(e.text) for e in test]
    plains = [hundred_words(e.plain) for e in test]
    corpus = list(zip(texts, plains)) * (args.messages // len(texts) + 1)
    corpus = corpus[: args.messages]

    start = time.perf_counter()
    for text, plain in corpus:
        detect_language(plain, languages=LANGUAGES, translit=model.translit_probability)
        model.predict([text])
    single = len(corpus) / (time.perf_counter() - start)

    start = time.perf_counter()
    for offset in range(0, len(corpus), 256):
        chunk = corpus[offset:offset + 256]
        for _, plain in chunk:
            detect_language(plain, languages=LANGUAGES, translit=model.translit_probability)
        model.predict([text for text, _ in chunk])
    batched = len(corpus) / (time.perf_counter() - start)
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024

    print(f"machine: {platform.machine()} {os.cpu_count()} cores, Python {platform.python_version()}")
    print(f"training on {len(train)} examples (features, 2 calibrated models with 5-fold CV, translit): "
          f"{training_seconds:.1f} s on 2 cores (target <= 60 s)")
    print(f"artifact: {size / 1e6:.1f} MB (target <= 50 MB)")
    print(f"language + classification, 100-word emails, one core: single {single:,.0f}/s, "
          f"batched {batched:,.0f}/s (target >= 2,000/s)")
    print(f"peak resident memory of this process with the model loaded: {rss:.0f} MB (target <= 600 MB)")


if __name__ == "__main__":
    main()
