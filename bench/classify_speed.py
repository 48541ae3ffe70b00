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
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from classifiers.artifacts import MODEL_FILE, load_bundle, save_bundle
from classifiers.train import train_bundle
from triage.language import detect_language
from triage.training import examples_of, load_labeled

ROOT = Path(__file__).resolve().parents[1]
SAMPLE = ROOT / "fixtures" / "eml" / "en-01-gmail-reply-alternative-qp.eml"
LANGUAGES = ("en", "ru", "es", "de", "fr", "it", "pt", "zh")


def hundred_words(text: str) -> str:
    words = text.split()
    while len(words) < 100:
        words += words
    return " ".join(words[:100])


def serving_memory(models: Path) -> float:
    """Peak resident MB of a fresh process that loads the model and triages one message."""
    # VmHWM, not ru_maxrss: Linux carries ru_maxrss over from the forking parent.
    script = ("import re; from classifiers.artifacts import load_bundle; "
              "from triage.pipeline import TriageContext, triage; "
              f"m = load_bundle({str(models)!r}); "
              f"triage(open({str(SAMPLE)!r}, 'rb').read(), TriageContext(model=m)); "
              "print(int(re.search(r'VmHWM:\\s+(\\d+)', open('/proc/self/status').read()).group(1)) / 1024)")
    return float(subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, check=True).stdout)


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

    # Steady state: a running worker has seen the common words already.
    model.predict(texts)
    for plain in plains:
        detect_language(plain, languages=LANGUAGES, translit=model.translit_probability)
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
    rss = serving_memory(folder)

    print(f"machine: {platform.machine()} {os.cpu_count()} cores, Python {platform.python_version()}")
    print(f"training on {len(train)} examples (features, topic and ordinal urgency models with 3-fold out-of-fold scores, translit): "
          f"{training_seconds:.1f} s on 2 cores (target <= 60 s)")
    print(f"artifact: {size / 1e6:.1f} MB (target <= 50 MB)")
    print(f"language + classification, 100-word emails, one core: single {single:,.0f}/s, "
          f"batched {batched:,.0f}/s (target >= 2,000/s)")
    print(f"peak resident memory of a process with the model loaded, triaging: {rss:.0f} MB (target <= 600 MB)")


if __name__ == "__main__":
    main()
