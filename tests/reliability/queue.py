"""The queue as a test sees it from outside: fill it with distinct mail, read back what the workers did."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import func, select
from sqlmodel import Session

from triage.db.engine import make_engine
from triage.db.models import Message, TriageRow
from triage.db.store import store_message

FIXTURES = sorted((Path(__file__).resolve().parents[2] / "fixtures" / "eml").glob("*.eml"))


def fixture_mail(count: int, tag: str) -> list[bytes]:
    """``count`` distinct messages: the fixtures in turn, each under a header naming ``tag`` and its number."""
    samples = [path.read_bytes() for path in FIXTURES]
    return [b"X-Reliability-Copy: %s-%d\r\n" % (tag.encode(), number) + samples[number % len(samples)]
            for number in range(count)]


@dataclass(frozen=True)
class QueuedMessage:
    """One message row's queue state, as the assertions read it."""

    id: int
    status: str
    attempts: int
    claimed_by: str | None
    last_error: str | None


class Queue:
    """A store's message and triage_result tables, read and filled through one engine."""

    def __init__(self, database_url: str) -> None:
        self.engine = make_engine(database_url)

    def store(self, raws: list[bytes], source: str = "reliability") -> None:
        """Queue ``raws`` as pending in one transaction, as ``triage import`` stores each."""
        with Session(self.engine) as session, session.begin():
            for number, raw in enumerate(raws):
                assert store_message(session, raw, source=f"{source}:{number}")

    def counts(self) -> Counter:
        """Messages per status."""
        with Session(self.engine) as session:
            return Counter(dict(session.execute(select(Message.status, func.count()).group_by(Message.status)).all()))

    def messages(self) -> list[QueuedMessage]:
        """Every message's queue state, by id."""
        with Session(self.engine) as session:
            rows = session.execute(select(Message.id, Message.status, Message.attempts, Message.claimed_by,
                                          Message.last_error).order_by(Message.id))
            return [QueuedMessage(*row) for row in rows]

    def raws(self) -> list[bytes]:
        """Every stored message's raw bytes, by id."""
        with Session(self.engine) as session:
            return list(session.scalars(select(Message.raw).order_by(Message.id)).all())

    def triage_rows_per_message(self) -> Counter:
        """message id -> how many triage_result rows it has."""
        with Session(self.engine) as session:
            rows = session.execute(select(TriageRow.message_id, func.count()).group_by(TriageRow.message_id))
            return Counter(dict(rows.all()))

    def close(self) -> None:
        self.engine.dispose()


def assert_each_triaged_once(queue: Queue, count: int) -> list[QueuedMessage]:
    """Every one of ``count`` messages is done, without error, with exactly one triage row; the messages."""
    messages = queue.messages()
    assert len(messages) == count
    assert Counter(message.status for message in messages) == {"done": count}
    assert [message.id for message in messages if message.last_error] == []
    assert queue.triage_rows_per_message() == {message.id: 1 for message in messages}
    return messages
