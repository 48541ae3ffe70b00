"""The comparison behind the model card: alternatives scored by cross-validation on train.

Each alternative is scored by writer-grouped cross-validation on the train split (each
fold holds out whole writers, as the test split does: what the choice is made on) and,
for the record, on the test split.  Figures are argmax accuracy and macro-F1, before
the critical threshold, so alternatives compare alike; urgency here reads the text
features only (production also stacks the topic probabilities).

    python bench/model_selection.py [--folds 4] [--out classifiers/selection.json]
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

import numpy as np
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.metrics import accuracy_score, f1_score
from sklearn.model_selection import GroupKFold
from sklearn.pipeline import FeatureUnion

import spacy

from classifiers.cues import UrgencyCues
from classifiers.vectorize import CharGramTfidf
from classifiers.models import CANDIDATES, build_features, build_urgency_model
from triage.training import examples_of, load_labeled

ROOT = Path(__file__).resolve().parents[1]


def char_features() -> FeatureUnion:
    return FeatureUnion([
        ("words", TfidfVectorizer(ngram_range=(1, 2), min_df=2, sublinear_tf=True, token_pattern=r"(?u)\b\w+\b")),
        ("chars", TfidfVectorizer(analyzer="char_wb", ngram_range=(2, 5), min_df=2, sublinear_tf=True)),
    ])


def stem_tokens(text: str) -> list[str]:
    """Words cut to a 5-letter stem and a 3-letter ending: the cheap morphology we tried first."""
    tokens = []
    for word in text.split():
        tokens += [word[:5] + "~", "~" + word[-3:]] if len(word) > 5 else [word]
    return tokens


def words_stems() -> FeatureUnion:
    return FeatureUnion([
        ("words", TfidfVectorizer(ngram_range=(1, 2), min_df=2, sublinear_tf=True, token_pattern=r"(?u)\b\w+\b")),
        ("stems", TfidfVectorizer(analyzer=stem_tokens, min_df=2, sublinear_tf=True)),
        ("cues", UrgencyCues())], transformer_weights={"words": 1.0, "stems": 1.0, "cues": 0.5})


LEMMATIZERS = {}


def lemmatize(text: str, lang: str) -> str:
    """Lemmas from a blank spaCy pipeline: pymorphy3 for Russian, lookup tables for en and es."""
    if lang not in LEMMATIZERS:
        nlp = spacy.blank(lang if lang in ("en", "ru", "es") else "en")
        nlp.add_pipe("lemmatizer", config={"mode": "pymorphy3" if nlp.lang == "ru" else "lookup"})
        nlp.initialize()
        LEMMATIZERS[lang] = nlp
    return " ".join(token.lemma_.lower() for token in LEMMATIZERS[lang](text))


LEMMAS: dict[str, str] = {}  # model text -> its lemmas; filled in main() with each example's language


class LemmaWords(TfidfVectorizer):
    """Word 1-2-grams over the lemmas of the text rather than its word forms."""

    def build_analyzer(self):
        words = super().build_analyzer()
        return lambda text: words(LEMMAS.get(text, text))


def lemmas_chars() -> FeatureUnion:
    return FeatureUnion([
        ("lemmas", LemmaWords(ngram_range=(1, 2), min_df=2, sublinear_tf=True, token_pattern=r"(?u)\b\w+\b",
                              lowercase=False)),
        ("chars", CharGramTfidf(min_df=2)),
        ("cues", UrgencyCues())], transformer_weights={"lemmas": 1.0, "chars": 1.0, "cues": 0.5})


def words_only() -> FeatureUnion:
    return FeatureUnion([("words", TfidfVectorizer(ngram_range=(1, 2), min_df=2, sublinear_tf=True,
                                                   token_pattern=r"(?u)\b\w+\b"))])


FEATURES = {"words+char 3-4+cues (kept)": build_features, "lemmas+char 3-4+cues": lemmas_chars,
            "words+char 2-5": char_features,
            "words+stems+cues": words_stems, "words only": words_only}


def score(make_features, make_model, train, test, target, per_language=False, folds=4):
    """(cv accuracy, cv macro-F1, test accuracy, test macro-F1) of one alternative."""
    def fit_predict(fit_rows, predict_rows):
        if per_language:
            predictions = {}
            for lang in {row.lang for row in predict_rows}:
                fit_part = [r for r in fit_rows if r.lang == lang] or fit_rows
                part = [r for r in predict_rows if r.lang == lang]
                for row, label in zip(part, fit_predict_joint(fit_part, part)):
                    predictions[id(row)] = label
            return [predictions[id(row)] for row in predict_rows]
        return fit_predict_joint(fit_rows, predict_rows)

    def fit_predict_joint(fit_rows, predict_rows):
        features = make_features()
        matrix = features.fit_transform([r.text for r in fit_rows])
        model = make_model().fit(matrix, [getattr(r, target) for r in fit_rows])
        return list(model.predict(features.transform([r.text for r in predict_rows])))

    labels = np.array([getattr(r, target) for r in train])
    writers = [r.id.split("-")[1] for r in train]
    truth, guesses = [], []
    for fit_index, hold_index in GroupKFold(folds).split(train, labels, writers):
        held = [train[i] for i in hold_index]
        guesses += fit_predict([train[i] for i in fit_index], held)
        truth += [getattr(r, target) for r in held]
    test_truth = [getattr(r, target) for r in test]
    test_guess = fit_predict(train, test)
    return (accuracy_score(truth, guesses), f1_score(truth, guesses, average="macro"),
            accuracy_score(test_truth, test_guess), f1_score(test_truth, test_guess, average="macro"))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--folds", type=int, default=4)
    parser.add_argument("--out", type=Path, default=ROOT / "classifiers" / "selection.json")
    args = parser.parse_args()
    mails = load_labeled(ROOT / "fixtures" / "corpus")
    train = examples_of([m for m in mails if m.split == "train"])
    test = examples_of([m for m in mails if m.split == "test"])
    LEMMAS.update({row.text: lemmatize(row.text, row.lang) for row in train + test})
    alternatives = [(f"{features} | {model}", FEATURES[features], CANDIDATES[model], False, ("topic", "urgency"))
                    for features in FEATURES for model in CANDIDATES
                    if features == "words+char 3-4+cues (kept)" or model in ("logreg", "linearsvc")]
    alternatives.append(("words+char 3-4+cues | linearsvc | one model per language", build_features,
                         CANDIDATES["linearsvc"], True, ("topic", "urgency")))
    alternatives.append(("words+char 3-4+cues (kept) | ordinal logreg (kept for urgency)", build_features,
                         build_urgency_model, False, ("urgency",)))
    rows = []
    print("| alternative | target | cv acc | cv macro-F1 | test acc | test macro-F1 | seconds |")
    print("|---|---|---|---|---|---|---|")
    for name, make_features, make_model, per_language, targets in alternatives:
        for target in targets:
            start = time.perf_counter()
            figures = score(make_features, make_model, train, test, target, per_language, args.folds)
            seconds = time.perf_counter() - start
            rows.append({"alternative": name, "target": target, "cv_accuracy": round(figures[0], 4),
                         "cv_macro_f1": round(figures[1], 4), "test_accuracy": round(figures[2], 4),
                         "test_macro_f1": round(figures[3], 4)})
            print(f"| {name} | {target} | {figures[0]:.3f} | {figures[1]:.3f} | {figures[2]:.3f} | {figures[3]:.3f} "
                  f"| {seconds:.0f} |", flush=True)
    args.out.write_text(json.dumps(rows, indent=1) + "\n", encoding="utf-8")


if __name__ == "__main__":
    main()
