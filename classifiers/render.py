"""Render a corpus record as the .eml a real mail program would send.

Training and evaluation must see what production sees: each record goes out as MIME
bytes (charsets, HTML-only bodies, quoted history in the client's language, attachments)
and comes back through the same ``parse()`` as live mail.  The style is chosen from the
record id, so a record always renders to the same bytes.
"""

from __future__ import annotations

import hashlib
import html
import random
from datetime import datetime, timedelta, timezone
from email.message import EmailMessage
from email.utils import format_datetime

from classifiers.corpus import Record

DESK = "Client Services <support@desk.example>"
ATTRIBUTION = {
    "en": "On {date}, {desk} wrote:",
    "ru": "{date}, {desk} написал(а):",
    "es": "El {date}, {desk} escribió:",
    "de": "Am {date} schrieb {desk}:",
    "fr": "Le {date}, {desk} a écrit :",
    "it": "Il {date}, {desk} ha scritto:",
    "pt": "Em {date}, {desk} escreveu:",
    "zh": "在 {date}，{desk} 写道：",
}
OUTLOOK_HEADERS = {
    "en": ("From", "Sent", "To", "Subject"),
    "ru": ("От", "Отправлено", "Кому", "Тема"),
    "es": ("De", "Enviado", "Para", "Asunto"),
    "de": ("Von", "Gesendet", "An", "Betreff"),
    "fr": ("De", "Envoyé", "À", "Objet"),
    "it": ("Da", "Inviato", "A", "Oggetto"),
    "pt": ("De", "Enviada", "Para", "Assunto"),
    "zh": ("发件人", "发送时间", "收件人", "主题"),
}
LEGACY_CHARSETS = {"ru": ("windows-1251", "koi8-r"), "es": ("iso-8859-1", "windows-1252"),
                   "en": ("us-ascii", "windows-1252"), "de": ("iso-8859-15",), "fr": ("iso-8859-1",),
                   "it": ("iso-8859-1",), "pt": ("iso-8859-1",), "zh": ("gb18030",)}
STYLES = ("gmail", "outlook", "thunderbird", "mobile", "webmail_html")
REPLY_PREFIX = {"ru": "Re: ", "es": "RE: ", "en": "Re: "}


def render(record: Record) -> bytes:
    """The record as raw MIME bytes, styled by a mail program chosen from its id."""
    rng = random.Random(hashlib.sha256(record.id.encode()).digest())
    style = rng.choice(STYLES)
    when = datetime(2025, 1, 6, 8, tzinfo=timezone.utc) + timedelta(minutes=rng.randrange(0, 60 * 24 * 300))
    message = EmailMessage()
    message["From"] = f"client{rng.randrange(10**6):06d}@example.net"
    message["To"] = "support@desk.example"
    message["Subject"] = (REPLY_PREFIX.get(record.lang, "Re: ") if record.quoted else "") + record.subject
    message["Date"] = format_datetime(when)
    message["Message-ID"] = f"<{record.id}.{rng.randrange(10**9)}@example.net>"
    plain, markup = _bodies(record, style, when - timedelta(days=1), rng)
    charset = _charset(record, plain, style, rng)
    if style in ("outlook", "webmail_html") and rng.random() < 0.6:
        message.set_content(markup, subtype="html", charset=charset)
    elif style in ("gmail", "outlook"):
        message.set_content(plain, charset=charset)
        message.add_alternative(markup, subtype="html", charset=charset)
    else:
        message.set_content(plain, charset=charset)
    if rng.random() < 0.1:
        name = rng.choice(("screenshot.png", "statement.pdf", "IMG_2041.jpg"))
        maintype, subtype = {"png": ("image", "png"), "pdf": ("application", "pdf"),
                             "jpg": ("image", "jpeg")}[name.rsplit(".", 1)[1]]
        message.add_attachment(rng.randbytes(256), maintype=maintype, subtype=subtype, filename=name)
    return message.as_bytes()


def _bodies(record: Record, style: str, earlier: datetime, rng: random.Random) -> tuple[str, str]:
    """Plain and HTML bodies: the client's text, then the quoted history the program adds."""
    text = record.body.strip()
    if style == "mobile":
        text += "\n\n" + {"ru": "Отправлено с iPhone", "es": "Enviado desde mi iPhone"}.get(
            record.lang, "Sent from my iPhone")
    paragraphs = "".join(f"<div>{html.escape(line) or '<br>'}</div>" for line in text.split("\n"))
    if not record.quoted:
        return text + "\n", f"<html><body>{paragraphs}</body></html>"
    date = earlier.strftime("%d.%m.%Y %H:%M")
    quoted = record.quoted.strip()
    if style == "outlook":
        names = OUTLOOK_HEADERS.get(record.lang, OUTLOOK_HEADERS["en"])
        block = [f"{names[0]}: {DESK}", f"{names[1]}: {date}", f"{names[2]}: client",
                 f"{names[3]}: {record.subject}"]
        plain = f"{text}\n\n{'_' * 32}\n" + "\n".join(block) + f"\n\n{quoted}\n"
        markup = (f"<html><body>{paragraphs}<div id=\"appendonsend\"></div><hr>"
                  f"<div id=\"divRplyFwdMsg\">{'<br>'.join(map(html.escape, block))}</div>"
                  f"<div>{html.escape(quoted).replace(chr(10), '<br>')}</div></body></html>")
        return plain, markup
    attribution = ATTRIBUTION.get(record.lang, ATTRIBUTION["en"]).format(date=date, desk=DESK)
    cited = "\n".join(f"> {line}" if line else ">" for line in quoted.split("\n"))
    plain = f"{text}\n\n{attribution}\n{cited}\n"
    markup = (f"<html><body>{paragraphs}<br><div class=\"gmail_quote\"><div>{html.escape(attribution)}</div>"
              f"<blockquote type=\"cite\">{html.escape(quoted).replace(chr(10), '<br>')}</blockquote>"
              f"</div></body></html>")
    return plain, markup


def _charset(record: Record, text: str, style: str, rng: random.Random) -> str:
    """utf-8 mostly; the legacy charset of the language when the text fits in it."""
    if style not in ("outlook", "thunderbird") or rng.random() < 0.4:
        return "utf-8"
    for charset in LEGACY_CHARSETS.get(record.lang, ()):
        try:
            text.encode(charset)
            return charset
        except UnicodeEncodeError:
            continue
    return "utf-8"
