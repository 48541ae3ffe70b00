"""What the poller does on the server to messages it has committed: \\Seen, a keyword, MOVE.

Actions run only after the batch's commit, so a failure here loses nothing: the messages
are stored and the cursor has moved; the actions of that batch are simply not retried.
Each action is planned once per connection from what the server allows (READ-WRITE,
PERMANENTFLAGS, the MOVE capability of RFC 6851); what it does not allow is skipped and
logged once.  Nothing is ever deleted or expunged, and without MOVE nothing is moved.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass

from imapclient import IMAPClient

from triage.settings import Settings

SEEN = b"\\Seen"
ANY_KEYWORD = b"\\*"
# RFC 3501 9: a keyword is an atom, free of spaces, controls and list or quoting characters.
KEYWORD = re.compile(r"[^\x00-\x20\x7f(){%*\"\\\]]+")

Warn = Callable[..., None]


@dataclass(frozen=True)
class Actions:
    """Flags to add and a folder to MOVE to after each commit; the empty value does nothing."""

    flags: tuple[bytes, ...] = ()
    move_to: str | None = None

    def apply(self, client: IMAPClient, uids: tuple[int, ...]) -> None:
        """Flag, then move, the committed ``uids`` (flags travel with a moved message)."""
        if not uids:
            return
        if self.flags:
            client.add_flags(list(uids), list(self.flags), silent=True)
        if self.move_to:
            client.move(list(uids), self.move_to)


def plan_actions(client: IMAPClient, status: dict, settings: Settings, warn: Warn) -> Actions:
    """The configured actions this server and folder allow; ``warn(key, message, *args)`` once each."""
    if not status.get(b"READ-WRITE"):
        warn("read-only", "folder opened read-only; no flags set, nothing moved")
        return Actions()
    flags = (SEEN,) if settings.imap_mark_seen else ()
    if settings.imap_add_keyword:
        flags += _keyword(settings.imap_add_keyword, status, warn)
    return Actions(flags, _move_target(client, settings, warn))


def _keyword(keyword: str, status: dict, warn: Warn) -> tuple[bytes, ...]:
    # RFC 3501 7.1: "\*" in PERMANENTFLAGS means new keywords can be created and kept.
    permanent = status.get(b"PERMANENTFLAGS", status.get(b"FLAGS", ()))
    if not KEYWORD.fullmatch(keyword):
        warn("bad-keyword", "imap_add_keyword %r is not an IMAP atom; not set", keyword)
        return ()
    if ANY_KEYWORD not in permanent and keyword.encode() not in permanent:
        warn("no-keyword", "folder does not keep keyword %s; not set", keyword)
        return ()
    return (keyword.encode(),)


def _move_target(client: IMAPClient, settings: Settings, warn: Warn) -> str | None:
    target = settings.imap_move_to
    if not target:
        return None
    if not client.has_capability("MOVE"):
        warn("no-move", "server does not offer MOVE; imap_move_to ignored, nothing is moved")
        return None
    if target in settings.imap_folders:
        warn("move-to-polled", "imap_move_to %s is a polled folder; nothing is moved", target)
        return None
    if not client.folder_exists(target):
        client.create_folder(target)
    return target
