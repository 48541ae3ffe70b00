"""``extract(subject, text, language) -> Identifiers``: candidates from the matcher, validated.

The matcher proposes; this module decides.  A number inside an account id is not also an
order; a number that two contexts claim goes to the nearer context word; a number right
before a currency or after a currency sign is an amount; "orders 123456 and 654321"
carries the kind over a list.  Canonical forms follow TAXONOMY.md.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import numpy

from spacy.strings import hash_string
from spacy.tokens import Doc, Span

from triage.extract.pipeline import PATTERNS, pipeline
from triage.extract.prepare import candidate_windows, spaced_punctuation
from triage.extract.tables import id_cells, is_table_row

NUMBER = re.compile(PATTERNS["number_6_12"])
FORMATS = {"account": re.compile(PATTERNS["account_token"]), "execution": re.compile(PATTERNS["execution_token"])}
CURRENCY_AFTER = frozenset(PATTERNS["currency_after"])
CURRENCY_BEFORE = frozenset(PATTERNS["currency_before"])
JOINERS = frozenset(PATTERNS["list_joiners"])
ORDER_WORDS = frozenset(PATTERNS["order_words"])
ARTICLES = frozenset(PATTERNS["list_articles"])
NOT_IDENTIFIER = frozenset(PATTERNS["not_identifier_words"])
TRANSACTION_WORDS = frozenset(PATTERNS["transaction_words"]) | frozenset(PATTERNS["transaction_needs_id_word"])
TRANSFER_WORDS = frozenset(PATTERNS["transaction_needs_id_word"])
TRADE_WORDS = frozenset(PATTERNS["trade_words"])
NUMBER_FIRST = frozenset({"order:number-then-trade"})
ORDER_OR_TRANSFER = frozenset(PATTERNS["order_or_transfer_words"])
TRANSFER_CONTEXT = frozenset(PATTERNS["transfer_context_words"])
# The same word lists as spaCy string hashes, for reading a doc's LOWER array directly.
NOT_IDENTIFIER_IDS = frozenset(map(hash_string, NOT_IDENTIFIER))
ORDER_IDS = frozenset(map(hash_string, ORDER_WORDS | TRADE_WORDS))
ORDER_ONLY_IDS = frozenset(map(hash_string, ORDER_WORDS))
TRADE_IDS = frozenset(map(hash_string, TRADE_WORDS))
ID_WORD_IDS = frozenset(map(hash_string, PATTERNS["id_words"]))
TRANSACTION_IDS = frozenset(map(hash_string, TRANSACTION_WORDS))
TRANSFER_IDS = frozenset(map(hash_string, TRANSFER_WORDS))
ORDER_OR_TRANSFER_IDS = frozenset(map(hash_string, ORDER_OR_TRANSFER))
TRANSFER_CONTEXT_IDS = frozenset(map(hash_string, TRANSFER_CONTEXT))
MOVEMENT_WORD_IDS = frozenset(map(hash_string, PATTERNS["movement_words"]))
REQUEST_IDS = frozenset(map(hash_string, PATTERNS["request_words"]))
REQUEST_REACH = 12
# Order and trade words but "cancelled": a transfer can be cancelled too.
TRADING_IDS = ORDER_IDS - frozenset(map(hash_string, PATTERNS["cancel_words"]))
ORDER_TICKET_IDS = frozenset(map(hash_string, PATTERNS["order_ticket_words"]))
TRANSFER_OR_TRADE_IDS = frozenset(map(hash_string, PATTERNS["transfer_or_trade_words"]))
OPENING_IDS = frozenset(map(hash_string, ("(", "[")))
TRANSFER_CONTEXT_REACH = 25
TELLING_REACH = 20
NAMING_REACH = 5  # "account number on file 48392017": the words that name a number come just before it
# 20250314, 31122024: a compact date, not an identifier (years 1930-2049: a birth date may
# be one; 30081904 is a number).
YEAR = r"(?:19[3-9]\d|20[0-4]\d)"
MONTH, DAY = r"(?:0[1-9]|1[0-2])", r"(?:0[1-9]|[12]\d|3[01])"
DATE = re.compile(rf"^(?:{YEAR}{MONTH}{DAY}|{DAY}{MONTH}{YEAR})$")
# 89161234567, 79161234567: a Russian or Kazakh mobile number written without separators.
PHONE = re.compile(r"^[78]9\d{9}$")
# A reference written as parts joined by hyphens or underscores: not one of ours.
GLUED = re.compile(r"\w[-_]\w")
BULLETS = frozenset({"-", "–", "—", "•", "*", "·", ".", ")", ":", "№", "#", "n°", "nº", "no", "no.", "n", "°"})
KINDS = ("account", "order", "execution", "transaction")
MAX_CHARS = 100_000
VOCAB_LIMIT = 300_000


@dataclass(frozen=True)
class Found:
    """One identifier and the rule that found it (shown to agents: why this is an order id)."""

    kind: str
    value: str
    rule: str


@dataclass(frozen=True)
class Identifiers:
    """Canonical identifiers in order of first appearance, without duplicates."""

    account_ids: tuple[str, ...] = ()
    order_ids: tuple[str, ...] = ()
    execution_ids: tuple[str, ...] = ()
    transaction_ids: tuple[str, ...] = ()
    found: tuple[Found, ...] = ()


def extract(subject: str, text: str, language: str = "en") -> Identifiers:
    """Identifiers in the subject and the client's new text (never quotes or signatures)."""
    windows = spaced_punctuation(candidate_windows(f"{subject}\n\n{text}"[:MAX_CHARS]))
    if not windows:
        return Identifiers()
    doc = fresh_pipeline(language)(windows)
    claims = _claims(doc, windows)
    found: list[tuple[int, Found]] = []
    for position, (kind, rule, span) in sorted(claims.items()):
        value = canonical(kind, span)
        found.append((position, Found(kind, value, rule)))
    return _collect([item for _, item in sorted(found, key=lambda pair: pair[0])])


def fresh_pipeline(language: str):
    """The cached pipeline, rebuilt once its vocabulary has grown past ``VOCAB_LIMIT``.

    spaCy keeps every distinct word it has seen, and mail brings new numbers all day: a
    worker that runs for weeks would grow without bound.
    """
    nlp = pipeline(language)
    if len(nlp.vocab) > VOCAB_LIMIT:
        pipeline.cache_clear()
        nlp = pipeline(language)
    return nlp


def canonical(kind: str, span: Span) -> str:
    """TAXONOMY.md's canonical form: ``U1234567``, digits alone, lower-case execution ids."""
    if kind == "account":
        raw = re.sub(r"[\s#-]", "", span.text).replace("У", "U").replace("у", "U")
        return raw.upper()
    if kind == "execution":
        return span[-1].text.lower()
    return span[-1].text


def _claims(doc: Doc, text: str) -> dict[int, tuple[str, str, Span]]:
    """Token position of each identifier's last token -> (kind, rule, span), conflicts settled.

    ``text`` is the doc's text, passed along because ``doc.text`` is rebuilt on each call.
    """
    matches = [(span.label_, span.start, span.end) for span in doc.spans["identifiers"]]
    in_account = {index for label, start, end in matches if label == "account:split"
                  or label == "account:token" and FORMATS["account"].match(doc[start].text)
                  for index in range(start, end)}
    claims: dict[int, tuple[str, str, Span]] = {}
    voided: set[int] = set()
    words = _lower_hashes(doc)
    # Spans that carry their kind come first, shortest first; an id word whose kind is told
    # further back ("pending") only takes a number nothing else claimed.
    for label, start, stop in sorted(matches, key=lambda match: (match[0].startswith("pending"), match[2] - match[1])):
        kind = label.partition(":")[0]
        if kind == "pending":
            kind = _kind_told_before(doc, start, stop_on_this_line_only=True)
            if kind is None:
                continue
            label = f"{kind}:id-word-after-{kind}-word"
        if label.endswith(":token") and not FORMATS[kind].match(
                doc[start].text.lower() if kind == "execution" else doc[start].text):
            continue
        # The number is the span's last token, except in a pasted line that starts with it.
        end = start if label in NUMBER_FIRST else stop - 1
        if kind in ("order", "transaction"):
            if end in in_account or end in voided or _something_else(doc, text, end):
                continue
            # "deposit 250000": with no id word, a round number is an amount.
            if label == "transaction:movement-number" and doc[end].text.endswith("000"):
                continue
            # "order rejected [ticket #5120987]", "our firm reference 845512": the nearer word
            # says what the number is.
            if _named_otherwise(words, start, stop, kind):
                voided.add(end)
                continue
        kind, label = _settled_kind(doc, words, kind, label, start, stop, end)
        if end not in claims:
            claims[end] = (kind, label, doc[start:stop] if end == stop - 1 else doc[end:end + 1])
            if kind in ("order", "transaction"):
                _extend_list(doc, end, kind, label, claims)
    _bulleted_lists(doc, text, claims, in_account | voided)
    _table_cells(doc, text, claims, in_account | voided)
    _bare_numbers(doc, text, claims, in_account | voided)
    _transfer_lines(doc, text, claims, in_account | voided)
    return claims


def _settled_kind(doc: Doc, words: list[int], kind: str, label: str, start: int, stop: int,
                  end: int) -> tuple[str, str]:
    """(kind, rule) of the number at ``end`` in the span ``start:stop``, when the words around
    it tell otherwise than the pattern that found it."""
    # "trade reference 123456", "the limit (ref 55190273)": a reference of an order is the
    # order's number.
    if kind == "transaction" and _word_before(words, start) in ORDER_IDS:
        return "order", "order:word-before-reference"
    # "I bought 20 shares ... The confirmation number I was given was 1199027734",
    # "confirmation number 550019273 for a sale of": the confirmation of a trade, not of
    # a deposit.
    if kind == "transaction" and any(word in TRANSFER_OR_TRADE_IDS for word in words[start:stop - 1]) and "order" in (
            _nearest_kind(reversed(words[max(0, start - TELLING_REACH):start])), _nearest_kind(words[end + 1:end + 7])):
        return "order", "order:trade-confirmation"
    if kind != "order":
        return kind, label
    # "заявка на вывод 50219384", "заявка 50219384 на вывод": a request to withdraw or
    # transfer is a transaction.
    if any(word in TRANSFER_IDS for word in words[start + 1:stop - 1]) or any(
            word in MOVEMENT_WORD_IDS for word in words[end + 1:end + 4]):
        return "transaction", "transaction:transfer-request"
    # "vyvod 800 EUR na Revolut, nomer zayavki 562301174": the request is the withdrawal's.
    if _request_for_movement(doc, words, start, stop):
        return "transaction", "transaction:request-after-movement"
    # "el banco me dio ... el número de operación 611490027": an operation of a bank transfer.
    if words[start] in ORDER_OR_TRANSFER_IDS and any(
            word in TRANSFER_CONTEXT_IDS for word in words[max(0, start - TRANSFER_CONTEXT_REACH):end]):
        return "transaction", "transaction:transfer-operation"
    return kind, label


def _request_for_movement(doc: Doc, words: list[int], start: int, stop: int) -> bool:
    """"vyvod 800 EUR, nomer zayavki 562301174": a numbered заявка whose line tells a withdrawal
    or transfer shortly before it, with no trade word between them, in it or right after its
    number ("заявка на продажу 9102938475", "заявка 7730192845 на покупку")."""
    if not any(word in REQUEST_IDS for word in words[start:stop - 1]) or any(
            word in TRADE_IDS for word in words[start:stop + 3]):
        return False
    if not (start > 0 and words[start - 1] in ID_WORD_IDS) and not any(
            word in ID_WORD_IDS for word in words[start + 1:stop - 1]):
        return False
    breaks = _line_breaks(doc)
    for index in range(start - 1, max(0, start - REQUEST_REACH) - 1, -1):
        if index in breaks or words[index] in TRADE_IDS:
            return False
        if words[index] in MOVEMENT_WORD_IDS:
            return True
    return False


def _transfer_lines(doc: Doc, text: str, claims: dict, taken: set[int]) -> None:
    """"Withdrawal  EUR 800.00  562301174  Processed": on a table line pasted from the transfer
    history (cells apart by tabs, bars or runs of spaces) with a money-movement word and no
    order or trade word, a long number of its own is the transfer's reference.

    Amounts, dates, phone numbers, round numbers and numbers named otherwise (an account,
    a case) within five words before stay out.
    """
    words = _lower_hashes(doc)
    if MOVEMENT_WORD_IDS.isdisjoint(words):
        return
    for line in _lines(doc):
        line_words = {words[index] for index in line}
        if not line or MOVEMENT_WORD_IDS.isdisjoint(line_words) or not TRADING_IDS.isdisjoint(line_words):
            continue
        if not is_table_row(text[doc[line[0]].idx:doc[line[-1]].idx + len(doc[line[-1]])]):
            continue
        for index in line:
            number = doc[index].text
            if (not NUMBER.match(number) or number.endswith("000") or _named_just_before(words, index)
                    or _taken_or_not_ours(doc, text, index, claims, taken)):
                continue
            claims[index] = ("transaction", "transaction:transfer-line", doc[index:index + 1])


def _named_otherwise(words: list[int], start: int, stop: int, kind: str) -> bool:
    """A ticket, phone, bank or identity word between a context word and its number, or right
    before a reference word ("our firm reference 845512"); "the order ticket" (where orders
    are entered) is an order's."""
    between = words[start + 1:stop - 1]
    if between and between[0] in ORDER_TICKET_IDS and words[start] in ORDER_ONLY_IDS:
        between = between[1:]
    return any(word in NOT_IDENTIFIER_IDS for word in between) or (
        kind == "transaction" and start > 0 and words[start - 1] in NOT_IDENTIFIER_IDS)


def _word_before(words: list[int], start: int) -> int | None:
    """The word before ``start``, over an opening bracket: "limit (ref ...)" reads "limit"."""
    before = start - 1
    if before > 0 and words[before] in OPENING_IDS:
        before -= 1
    return words[before] if before >= 0 else None


def _named_just_before(words: list[int], index: int) -> bool:
    """A ticket, phone, bank or identity word among the few words before the number."""
    return any(word in NOT_IDENTIFIER_IDS for word in words[max(0, index - NAMING_REACH):index])


def _taken_or_not_ours(doc: Doc, text: str, index: int, claims: dict, taken: set[int]) -> bool:
    """A number already claimed or set aside, a phone number, or something else (an amount, a date)."""
    return (index in claims or index in taken or bool(PHONE.match(doc[index].text))
            or _something_else(doc, text, index))


def _something_else(doc: Doc, text: str, index: int) -> bool:
    """A number that is an amount, a compact date or part of a longer reference, whatever word precedes it."""
    return _is_amount(doc, index) or bool(DATE.match(doc[index].text)) or _glued_to_letters(doc, text, index)


def _is_amount(doc: Doc, index: int) -> bool:
    after = doc[index + 1].lower_ if index + 1 < len(doc) else ""
    before = doc[index - 1].lower_ if index > 0 else ""
    return after in CURRENCY_AFTER or before in CURRENCY_BEFORE


def _bare_numbers(doc: Doc, text: str, claims: dict, taken: set[int]) -> None:
    """"The other one, 4410298866, filled": in a mail that speaks of orders, a long number
    with no context of its own is one more order, when the nearest telling word is an order's.

    Numbers next to a ticket, phone, bank or identity word, dates, round quantities
    (1000000), amounts and references joined to other parts stay out; so does every number
    of a mail that names no order at all.
    """
    words = _lower_hashes(doc)
    if not any(kind in ("order", "transaction") for kind, _, _ in claims.values()) and ORDER_IDS.isdisjoint(words):
        return
    digits, lengths = doc.to_array(["IS_DIGIT", "LENGTH"]).T  # no Token objects for the rest
    candidates = [int(index) for index in numpy.flatnonzero((digits == 1) & (lengths >= 6) & (lengths <= 12))]
    # A number named a ticket, phone or passport anywhere is that everywhere ("#88933012 |
    # Re my case #88933012").
    named_otherwise = {doc[index].text for index in candidates if _named_just_before(words, index)}
    for index in candidates:
        number = doc[index].text
        if number in named_otherwise or number.endswith("0000") or _taken_or_not_ours(doc, text, index, claims, taken):
            continue
        kind = _kind_told_before(doc, index, reach=len(doc)) or _nearest_kind(words[index + 1:])
        if kind == "order":  # transfer references are named as such; a bare number near one is not
            claims[index] = (kind, f"{kind}:bare-number-in-{kind}-mail", doc[index:index + 1])


def _kind_told_before(doc: Doc, start: int, reach: int = TELLING_REACH,
                      stop_on_this_line_only: bool = False) -> str | None:
    """The kind of the nearest order or transfer word in the words before ``start``, if any;
    none when a ticket, phone or bank word comes first ("account number 483920175").

    With ``stop_on_this_line_only``, such a word on an earlier line does not stop the walk: in a
    pasted screen ("Orden: Compra / Cantidad: 2 / ID: 1891009112") it names its own line's
    value.  Reads the words' hashes, so no Token objects are made on the way back.
    """
    words, first = _lower_hashes(doc), max(0, start - reach)
    if not stop_on_this_line_only:
        return _nearest_kind(reversed(words[first:start]), NOT_IDENTIFIER_IDS)
    breaks = _line_breaks(doc)
    for index in range(start - 1, first - 1, -1):
        if index in breaks:
            return _nearest_kind(reversed(words[first:index]))
        if words[index] in NOT_IDENTIFIER_IDS:
            return None
        kind = _nearest_kind((words[index],))
        if kind:
            return kind
    return None


def _line_breaks(doc: Doc) -> frozenset[int]:
    """Positions of the whitespace tokens that hold a line break."""
    if "line_breaks" not in doc.user_data:
        spaces = numpy.flatnonzero(doc.to_array(["IS_SPACE"]))
        doc.user_data["line_breaks"] = frozenset(int(i) for i in spaces if "\n" in doc[int(i)].text)
    return doc.user_data["line_breaks"]


def _nearest_kind(words, stop_words: frozenset[int] = frozenset()) -> str | None:
    """The kind of the first order or transfer word among ``words`` (hashes, nearest first);
    none when a word of ``stop_words`` comes first."""
    for word in words:
        if word in stop_words:
            return None
        if word in ORDER_IDS:
            return "order"
        if word in TRANSACTION_IDS:
            return "transaction"
    return None


def _lower_hashes(doc: Doc) -> list[int]:
    """The hash of each token's lower-case form, computed once per doc."""
    if "lower_hashes" not in doc.user_data:
        doc.user_data["lower_hashes"] = doc.to_array(["LOWER"]).tolist()
    return doc.user_data["lower_hashes"]


def _glued_to_letters(doc: Doc, text: str, index: int) -> bool:
    """True for digits inside a longer reference: ``UBS-20250603-0087721``, ``240619-004417``."""
    token = doc[index]
    start, end = token.idx, token.idx + len(token.text)
    if text[start - 1:start] not in ("-", "_") and text[end:end + 1] not in ("-", "_"):
        return False  # no hyphen or underscore touches it: the common case, decided at once
    while start > 0 and not text[start - 1].isspace():
        start -= 1
    while end < len(text) and not text[end].isspace():
        end += 1
    chunk = text[start:end].strip(".,;:()[]{}\"'«»")
    return bool(GLUED.search(chunk))


def _table_cells(doc: Doc, text: str, claims: dict, taken: set[int]) -> None:
    """Numbers in the order-id or reference column of a pasted table (see ``tables.py``)."""
    cells = id_cells(text)
    if not cells:
        return
    at = {token.idx: token.i for token in doc if token.is_digit}
    for offset, kind in cells:
        index = at.get(offset)
        if index is not None and index not in claims and index not in taken:
            claims[index] = (kind, f"{kind}:table-column", doc[index:index + 1])


def _lines(doc: Doc) -> list[list[int]]:
    """Token indexes line by line (whitespace tokens dropped), computed once per doc."""
    if "lines" in doc.user_data:
        return doc.user_data["lines"]
    lines: list[list[int]] = [[]]
    for token in doc:
        if token.is_space:
            lines.extend([] for _ in range(token.text.count("\n")))
        else:
            lines[-1].append(token.i)
            if "\n" in token.whitespace_:
                lines.append([])
    doc.user_data["lines"] = lines
    return lines


def _bulleted_lists(doc: Doc, text: str, claims: dict, taken: set[int]) -> None:
    """"The following orders were rejected:" then one number per bullet line: each is an order.

    A line that ends with a colon and names orders or transfers (or follows words that
    did), or ends with an order word ("Rejected orders"), opens the list; every
    following line that starts with a bullet or item number and then a 6-12 digit number
    gives that number the header's kind, until a line that is not a list item.
    """
    if not _may_open_list(text):
        return
    kind = None
    for line in _lines(doc):
        if not line:
            continue
        words = {doc[i].lower_ for i in line}
        last = doc[line[-1]].lower_
        if last in ORDER_WORDS or (last.endswith(":") and words & ORDER_WORDS):
            kind = "order"
            continue
        if last.endswith(":"):
            kind = "transaction" if words & TRANSACTION_WORDS else _kind_told_before(doc, line[-1])
            continue
        if kind is None:
            continue
        item = _list_item_number(doc, line)
        if item is None:
            kind = None
            continue
        if item not in claims and item not in taken and not _is_amount(doc, item):
            claims[item] = (kind, f"{kind}:bulleted-list", doc[item:item + 1])


def _may_open_list(text: str) -> bool:
    """Cheap test on the text before walking tokens: a line that ends with ':' or an order word."""
    for line in text.split("\n")[:-1]:
        words = line.split()
        if words and (words[-1].endswith(":") or words[-1].lower() in ORDER_WORDS):
            return True
    return False


def _list_item_number(doc: Doc, line: list[int]) -> int | None:
    """The 6-12 digit number that opens a list line ("- 123456789", "2) 123456789"), if any."""
    for index in line:
        text = doc[index].lower_
        if NUMBER.match(text):
            return index
        if text in BULLETS or (text.isdigit() and len(text) <= 2):
            continue
        return None
    return None


def _extend_list(doc: Doc, index: int, kind: str, label: str, claims: dict) -> None:
    """"orders 123456, 234567 and 345678": numbers joined to a claimed one share its kind."""
    position = index + 1
    while position + 1 < len(doc) and doc[position].lower_ in JOINERS:
        target = position + 2 if doc[position + 1].lower_ in ARTICLES else position + 1
        if target >= len(doc) or not NUMBER.match(doc[target].text):
            break
        if target not in claims and not _is_amount(doc, target):
            claims[target] = (kind, f"{label}+list", doc[target:target + 1])
        position = target + 1


def _collect(found: list[Found]) -> Identifiers:
    values: dict[str, list[str]] = {kind: [] for kind in KINDS}
    kept = []
    for item in found:
        if item.value not in values[item.kind]:
            values[item.kind].append(item.value)
            kept.append(item)
    return Identifiers(account_ids=tuple(values["account"]), order_ids=tuple(values["order"]),
                       execution_ids=tuple(values["execution"]), transaction_ids=tuple(values["transaction"]),
                       found=tuple(kept))
