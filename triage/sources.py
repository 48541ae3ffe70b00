"""Where raw messages come from on the command line: .eml files, folders, mbox, maildir, stdin.

Each message is labelled with its source: the path as given, and for a message inside
an mbox or maildir the path, ``#`` and its 1-based position.  A source that cannot be
read yields one item with an error, and the others go on.
"""

from __future__ import annotations

import mailbox
import sys
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path

MBOX_START = b"From "


@dataclass(frozen=True)
class RawMessage:
    """One message's bytes and where it came from, or the error that kept it from us."""

    source: str
    raw: bytes | None = None
    error: str | None = None


def read_messages(paths: Iterable[str]) -> Iterator[RawMessage]:
    """Every message under ``paths``, in order; ``-`` reads one message from stdin."""
    for given in paths:
        if given == "-":
            yield RawMessage("-", sys.stdin.buffer.read())
            continue
        try:
            yield from _read_path(given)
        except OSError as error:
            yield RawMessage(given, error=f"cannot read {given}: {error.strerror or error}")


def _read_path(given: str) -> Iterator[RawMessage]:
    path = Path(given)
    if not path.exists():
        yield RawMessage(given, error=f"no such file or folder: {given}")
    elif path.is_dir() and (path / "cur").is_dir() and (path / "new").is_dir():
        yield from _maildir(given)
    elif path.is_dir():
        for child in sorted(path.rglob("*.eml")):
            yield from _read_path(str(child))
    elif _is_mbox(path):
        yield from _mbox(given)
    else:
        yield RawMessage(given, path.read_bytes())


def _is_mbox(path: Path) -> bool:
    with path.open("rb") as handle:
        return handle.read(len(MBOX_START)) == MBOX_START


def _mbox(given: str) -> Iterator[RawMessage]:
    box = mailbox.mbox(given, create=False)
    try:
        for position, key in enumerate(box.iterkeys(), 1):
            yield RawMessage(f"{given}#{position}", box.get_bytes(key))
    finally:
        box.close()


def _maildir(given: str) -> Iterator[RawMessage]:
    box = mailbox.Maildir(given, factory=None, create=False)
    for position, key in enumerate(sorted(box.iterkeys()), 1):
        yield RawMessage(f"{given}#{position}", box.get_bytes(key))
