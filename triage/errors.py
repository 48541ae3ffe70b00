"""The one exception hierarchy of the service; each class says when it is raised."""


class TriageError(Exception):
    """Base class: every error the service raises on purpose derives from it.

    ``permanent`` marks a class whose error comes back on every attempt with the same
    bytes: the worker parks such a message as failed at once instead of retrying it.
    """

    permanent: bool = False


class MessageTooLarge(TriageError):
    """Raised by ``parse()`` when the raw message exceeds the configured byte limit."""

    permanent = True


class UnreadableMessage(TriageError):
    """Raised by the worker when a stored message has no raw bytes to triage."""

    permanent = True


class SourceError(TriageError):
    """Raised when an input path is missing, unreadable or of no known mail format."""


class ConfigError(TriageError):
    """Raised when settings or a configuration file cannot be loaded."""


class ImapError(TriageError):
    """Raised by the IMAP poller when the server cannot be reached, drops the connection,
    or answers a command with NO or BAD; the poller reconnects after a backoff."""


class ImapLoginError(ImapError):
    """Raised when the IMAP server refuses the login, lacks the configured mechanism, or the
    OAuth2 token command or file yields no token."""
