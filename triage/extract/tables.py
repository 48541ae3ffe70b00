"""Order and transfer ids in tables clients paste from the platform or a report.

Clients copy the trades window, the transfer history or a CSV export into the mail: a
header line with an "Order ID" (or "IBOrderID", "Номер заявки", "Orden") or a "Your ref"
("ID транзакции", "Referencia") column, then one row per trade or transfer.  A number in
that column is an order or transaction id although no word stands next to it.  The header
decides the separator (tab, bar, comma, or two or more spaces) and the column; rows
follow until a blank line or a row of another shape.  A bank's reference column is not ours.
"""

from __future__ import annotations

import re

from triage.extract.pipeline import PATTERNS

COLUMNS = frozenset(PATTERNS["order_id_columns"])
TRANSACTION_COLUMNS = frozenset(PATTERNS["transaction_id_columns"])
ORDER_WORDS = frozenset(PATTERNS["order_words"])
ID_WORDS = frozenset(PATTERNS["id_words"])
SEPARATORS = (re.compile(r"\t"), re.compile(r"\s*\|\s*"), re.compile(r"\s*[,;]\s*"), re.compile(r" {2,}"))
CELL = re.compile(r"\d{6,12}")
# A row pasted without its header: cells apart by a tab, a bar or a run of spaces.
ROW = re.compile(r"\t|\||\S {2,}\S")
QUOTES = "\"' "


def id_cells(text: str) -> list[tuple[int, str]]:
    """(character offset in ``text``, kind) of each cell of an order-id or transaction-id column, in order."""
    if "\n" not in text or not ("\t" in text or "  " in text or "," in text or ";" in text or "|" in text):
        return []
    cells: list[tuple[int, str]] = []
    lines = text.split("\n")
    starts = _line_starts(lines)
    number = 0
    while number < len(lines):
        # A header is followed by a row holding a long number: most lines are not tried.
        followed_by_number = number + 1 < len(lines) and CELL.search(lines[number + 1])
        header = _header(lines[number]) if followed_by_number else None
        number += 1
        if header is None:
            continue
        separator, columns, width = header
        while number < len(lines) and lines[number].strip():
            row = _cells(lines[number], separator)
            if len(row) != width:
                break
            for column, kind in columns:
                start, cell = row[column]
                if CELL.fullmatch(cell):
                    cells.append((starts[number] + start, kind))
            number += 1
    return cells


def is_table_row(line: str) -> bool:
    """True for a line whose cells are apart by a tab, a bar or a run of spaces."""
    return bool(ROW.search(line))


def _header(line: str) -> tuple[re.Pattern, list[tuple[int, str]], int] | None:
    """(separator, [(column, kind)], number of columns) when ``line`` heads such a table."""
    for separator in SEPARATORS:
        cells = _cells(line, separator)
        if len(cells) < 3:
            continue
        columns = []
        for column, (_, cell) in enumerate(cells):
            kind = _kind_of_column(cell.lower())
            if kind:
                columns.append((column, kind))
        if columns:
            return separator, columns, len(cells)
    return None


def _kind_of_column(name: str) -> str | None:
    """"order" for a column of order ids, "transaction" for one of transfer references."""
    if _names_order_ids(name):
        return "order"
    if name in TRANSACTION_COLUMNS:  # named exactly: "Bank ref" is the bank's, not ours
        return "transaction"
    return None


def _names_order_ids(name: str) -> bool:
    """"Order ID", "IBOrderID", "ID заявки", "Nº de orden": a column of order ids."""
    words = set(name.replace(".", " ").split())
    return name in COLUMNS or (len(words) <= 3 and bool(words & ORDER_WORDS) and bool(words & ID_WORDS))


def _cells(line: str, separator: re.Pattern) -> list[tuple[int, str]]:
    """(offset in the line, text without quotes) of each cell."""
    cells, position = [], 0
    for piece in separator.split(line):
        at = line.index(piece, position) if piece else position
        stripped = piece.strip(QUOTES)
        cells.append((at + (len(piece) - len(piece.lstrip(QUOTES))), stripped))
        position = at + len(piece)
    return cells


def _line_starts(lines: list[str]) -> list[int]:
    starts, position = [], 0
    for line in lines:
        starts.append(position)
        position += len(line) + 1
    return starts
