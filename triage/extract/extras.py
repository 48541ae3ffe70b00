"""The extras agents like to see: tickers and option contracts, ISINs, amounts with currency.

Reported under their own keys; they never become identifiers.  ISINs are kept only when
their check digit is right (ISO 6166: letters to numbers, then the Luhn sum).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

ISIN = re.compile(r"\b([A-Z]{2}[A-Z0-9]{9}\d)\b")
OCC_SYMBOL = re.compile(r"\b([A-Z]{1,6})\s?(\d{6})([CP])(\d{8})\b")
OPTION = re.compile(
    r"\b([A-Z]{1,5})\s+(\d+(?:[.,]\d+)?)\s*(calls?|puts?|C|P|колл\w*|пут\w*|opciones de compra)\b"
    r"(?:\s+(\d{1,2}\s+[A-Za-z]{3}\w*|[A-Za-z]{3}\w*\s+\d{1,2}|\d{1,2}/\d{1,2}(?:/\d{2,4})?))?")
CASHTAG = re.compile(r"\$([A-Z]{1,5})\b")
TRADING_WORDS = re.compile(
    r"\b(?:shares?|stocks?|calls?|puts?|options?|position|bought|sold|buy|sell|short|long|ETF|акци\w*|"
    r"позици\w*|купил\w*|продал\w*|acciones|compr\w*|vend\w*|posici\w*)\b", re.IGNORECASE)
UPPER_WORD = re.compile(r"\b[A-Z]{2,5}\b")
NOT_TICKERS = frozenset("""USD EUR GBP RUB CHF JPY CNY HKD SGD AUD CAD NZD MXN ARS COP CLP PEN BRL KZT UAH PLN ZAR AED
INR TWS API ETF ETFS IRA ACATS ATON FOP DRS PDT OK ID US USA UK EU FX CEO CFO IT PM AM ET CET CST EST UTC GMT
DNE OCC SEC FINRA IBAN SWIFT BIC ACH SEPA SMS PIN KYC AML PDF CSV FAQ ASAP NAV NLV GTC DAY MOC LOC LMT MKT STP
RTH OTC ADR IPO ECB FED CPI TIN SSN DNI NIE CUIT RFC IVA NIF VAT USDT BTC ETH II III IV ISIN CUSIP SEDOL
LEI MT103 NOT""".split())
CURRENCY_CODES = ("USD", "EUR", "GBP", "RUB", "CHF", "JPY", "CNY", "HKD", "SGD", "AUD", "CAD", "NZD", "MXN",
                  "ARS", "COP", "CLP", "PEN", "BRL", "KZT", "UAH", "PLN", "ZAR", "AED", "INR", "CZK", "TRY")
CURRENCY_WORDS = {"$": "USD", "us$": "USD", "€": "EUR", "£": "GBP", "¥": "JPY", "₽": "RUB", "руб": "RUB",
                  "руб.": "RUB", "рублей": "RUB", "рубля": "RUB", "р.": "RUB", "долларов": "USD", "доллара": "USD",
                  "евро": "EUR", "dollars": "USD", "dólares": "USD", "dolares": "USD", "euros": "EUR",
                  "pesos": "MXN", "тенге": "KZT", "грн": "UAH"}
NUMBER = r"\d{1,3}(?:[ .,\u00a0]\d{3})+(?:[.,]\d{1,2})?|\d+(?:[.,]\d{1,2})?"
MULTIPLIER = r"(?:\s?(k|m|mil|тыс\.?|млн))?"
CODE = "|".join(CURRENCY_CODES)
AMOUNT_BEFORE = re.compile(rf"(?<![\w.,])(\$|us\$|€|£|¥|₽|(?:{CODE})\s?)({NUMBER}){MULTIPLIER}(?![\w])", re.IGNORECASE)
AMOUNT_AFTER = re.compile(
    rf"(?<![\w.,])({NUMBER}){MULTIPLIER}\s?({CODE}|€|\$|£|руб\.?|рублей|рубля|долларов|доллара|евро|dollars|"
    rf"d[oó]lares|euros|pesos|тенге|грн)(?![\w])", re.IGNORECASE)
MULTIPLIERS = {"k": 1_000, "mil": 1_000, "тыс": 1_000, "тыс.": 1_000, "m": 1_000_000, "млн": 1_000_000}


@dataclass(frozen=True)
class Extras:
    """Tickers (and option contracts as written), valid ISINs, and normalised amounts."""

    tickers: tuple[str, ...] = ()
    options: tuple[str, ...] = ()
    isins: tuple[str, ...] = ()
    amounts: tuple[str, ...] = ()


def extract_extras(text: str) -> Extras:
    """The extras of the subject and new text, in order of appearance, without duplicates."""
    options = [" ".join(part for part in match.groups() if part) for match in OPTION.finditer(text)]
    options += ["".join(match.groups()) for match in OCC_SYMBOL.finditer(text)]
    return Extras(tickers=_unique(_tickers(text)), options=_unique(options),
                  isins=_unique(m.group(1) for m in ISIN.finditer(text) if isin_valid(m.group(1))),
                  amounts=_unique(_amounts(text)))


def isin_valid(isin: str) -> bool:
    """ISO 6166 check digit: letters become two digits, then the Luhn sum must end in 0."""
    digits = "".join(str(int(char, 36)) for char in isin)
    total = 0
    for position, char in enumerate(reversed(digits)):
        value = int(char) * (2 if position % 2 else 1)
        total += value // 10 + value % 10
    return total % 10 == 0


def _tickers(text: str) -> list[str]:
    found = [m.group(1) for m in CASHTAG.finditer(text)]
    found += [m.group(1) for m in OPTION.finditer(text)]
    for sentence in re.split(r"(?<=[.!?\n])", text):
        if TRADING_WORDS.search(sentence):
            found += [w for w in UPPER_WORD.findall(sentence) if w not in NOT_TICKERS]
    return [ticker for ticker in found if ticker not in NOT_TICKERS]


def _amounts(text: str) -> list[tuple[int, str]]:
    spans = []
    for match in AMOUNT_BEFORE.finditer(text):
        currency = CURRENCY_WORDS.get(match.group(1).strip().lower(), match.group(1).strip().upper())
        spans.append((match.start(), _normalise(match.group(2), match.group(3), currency)))
    for match in AMOUNT_AFTER.finditer(text):
        currency = CURRENCY_WORDS.get(match.group(3).lower(), match.group(3).upper())
        spans.append((match.start(), _normalise(match.group(1), match.group(2), currency)))
    return [value for _, value in sorted(spans)]


def _normalise(number: str, multiplier: str | None, currency: str) -> str:
    """"1.500,00" -> 1500.00, "15 000" -> 15000, "3k" -> 3000; then the ISO currency."""
    digits = number.replace("\u00a0", " ").replace(" ", "")
    last = max(digits.rfind("."), digits.rfind(","))
    if last != -1 and len(digits) - last - 1 in (1, 2):
        whole, fraction = re.sub(r"[.,]", "", digits[:last]), digits[last + 1:]
        value = f"{whole}.{fraction.ljust(2, '0')}"
    else:
        value = re.sub(r"[.,]", "", digits)
    if multiplier:
        scaled = float(value) * MULTIPLIERS[multiplier.lower()]
        value = f"{scaled:.0f}" if scaled.is_integer() else f"{scaled:.2f}"
    return f"{value} {currency}"


def _unique(items) -> tuple[str, ...]:
    return tuple(dict.fromkeys(items))
