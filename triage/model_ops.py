"""Training and evaluating models end to end: labeled mail, the real pipeline, figures.

Evaluation runs each message through ``triage()`` itself, language detection included,
so the figures are those of production.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from classifiers.artifacts import active_version, load_bundle, save_bundle
from classifiers.bundle import ModelBundle
from classifiers.evaluate import Outcome, report
from classifiers.train import train_bundle
from triage.pipeline import context_for, triage
from triage.settings import Settings
from triage.training import LabeledMail, examples_of, load_labeled

Progress = Callable[[str], None]


def train_model(data: Path, models_dir: Path, settings: Settings,
                progress: Progress = lambda step: None) -> tuple[ModelBundle, dict | None]:
    """Train on the train split at ``data``, evaluate on its test split if any, save and activate."""
    mails = load_labeled(data)
    training = [mail for mail in mails if mail.split != "test"]
    held_out = [mail for mail in mails if mail.split == "test"]
    progress("parsing")
    bundle = train_bundle(examples_of(training), progress=progress)
    figures = None
    if held_out:
        progress("evaluating on the test split")
        figures = report(evaluate(bundle, held_out, settings))
        bundle.card["test_split_metrics"] = figures
    bundle.card["data"] = str(data)
    save_bundle(bundle, models_dir)
    return bundle, figures


def evaluate(bundle: ModelBundle, mails: list[LabeledMail], settings: Settings) -> list[Outcome]:
    """Run each labeled message through the pipeline and pair its labels with the predictions."""
    context = context_for(settings, bundle)
    outcomes = []
    for mail in mails:
        result = triage(mail.raw, context)
        prediction = result.prediction
        outcomes.append(Outcome(
            lang=mail.lang, topic=mail.topic, predicted_topic=prediction.topic,
            topic_confidence=prediction.topic_confidence, urgency=mail.urgency,
            predicted_urgency=prediction.urgency, urgency_confidence=prediction.urgency_confidence,
            predicted_lang=result.language.code))
    return outcomes


def load_or_train(settings: Settings, progress: Progress = lambda step: None) -> ModelBundle:
    """The active model; trained from the corpus first when there is none yet."""
    if active_version(settings.models_dir) is None:
        progress(f"no model in {settings.models_dir} yet: training from {settings.corpus_dir}")
        train_model(settings.corpus_dir, settings.models_dir, settings, progress)
    return load_bundle(settings.models_dir)
