"""Language detection: the detector, plus Cyrillic full of English terms, translit, short mail."""

from __future__ import annotations

import pytest

from triage.language import detect_language

LANGUAGES = ("en", "ru", "es", "de", "fr", "it", "pt", "zh")

# Written for this test, not taken from the corpus: the translit model has not seen them.
TRANSLIT = [
    "zdravstvujte, ne mogu vojti v prilozhenie uzhe vtoroj den, pishet oshibka parolya",
    "privet, kogda pridut den'gi na schet? otpravil perevod v ponedel'nik",
    "dobryj vecher. pochemu u menya spisali komissiyu za market data, ya nichego ne podkluchal",
    "skazhite pozhalujsta kak zakryt' poziciyu po fyuchersu esli terminal zavis",
    "ho4u vyvesti vse sredstva so s4eta i zakryt ego, 4to dlya etogo nuzhno",
]
NOT_TRANSLIT = [
    ("en", "Hi, my withdrawal has not arrived yet, could you check the status please?"),
    ("es", "Hola, no puedo entrar en la aplicacion desde ayer, me dice que la contrasena es incorrecta"),
    ("de", "Guten Tag, meine Einzahlung ist noch nicht auf dem Konto angekommen, bitte prüfen Sie das"),
    ("pt", "Bom dia, gostaria de saber quando o dinheiro do resgate vai cair na minha conta"),
    ("fr", "Bonjour, je n'arrive pas à me connecter à la plateforme depuis ce matin"),
]


@pytest.mark.parametrize("text", TRANSLIT)
def test_translit_russian_is_russian(model, text):
    """Russian typed in Latin letters is ru, where bare detectors say sl, cs, pl or en."""
    guess = detect_language(text, languages=LANGUAGES, translit=model.translit_probability)
    assert (guess.code, guess.reason) == ("ru", "translit")


@pytest.mark.parametrize(("lang", "text"), NOT_TRANSLIT)
def test_latin_languages_are_not_mistaken_for_translit(model, lang, text):
    """English, Spanish, German, Portuguese and French stay themselves with the translit model on."""
    assert detect_language(text, languages=LANGUAGES, translit=model.translit_probability).code == lang


def test_cyrillic_full_of_english_terms_is_russian():
    """A Russian mail made mostly of English trading terms is still ru."""
    text = "Добрый день, у меня margin call по account U1234567, stop loss не сработал, TWS завис, help"
    assert detect_language(text, languages=LANGUAGES).code == "ru"


def test_short_mail_falls_back_to_subject_then_history():
    """Under three words: the subject decides; with no usable subject, the sender's earlier language."""
    assert detect_language("Gracias!", subject="Retiro de fondos pendiente desde el lunes",
                           languages=LANGUAGES).reason == "subject"
    guess = detect_language("ok", subject="", languages=LANGUAGES, previous="es")
    assert (guess.code, guess.reason) == ("es", "history")


def test_answer_is_restricted_to_configured_languages():
    """A language outside the list is reported as the closest configured one."""
    assert detect_language("Goedemorgen, mijn storting is nog niet binnen", languages=("en", "ru", "es")).code in {
        "en", "ru", "es"}
