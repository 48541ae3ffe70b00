"""Email triage for a brokerage client-service desk.

The service reads client mail (IMAP, SMTP/LMTP, files), parses it into a clean record,
classifies topic and urgency, extracts account and order identifiers, routes each mail
to a team and suggests a reply in the client's language.
"""

__version__ = "0.1.0"
