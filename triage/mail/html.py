"""HTML mail to the text a reader sees, with the start of quoted history marked.

lxml parses whatever mail programs send; inscriptis lays it out as text.  Before the
layout, the first element that mail programs use to hold quoted history (Gmail's
``gmail_quote``, Outlook's ``divRplyFwdMsg``, Apple and Thunderbird's
``blockquote type=cite``...) gets a marker line in front of it, so that the text
splitter knows where the history begins without guessing from the text alone.
"""

from __future__ import annotations

import re

import lxml.etree
import lxml.html
from inscriptis import Inscriptis
from inscriptis.model.config import ParserConfig

QUOTE_MARK = "\ue000"
QUOTE_XPATH = lxml.etree.XPath(
    "(//div[contains(concat(' ', normalize-space(@class), ' '), ' gmail_quote ')"
    " or contains(@class, 'gmail_quote_container') or @id='divRplyFwdMsg'"
    " or @id='appendonsend' or contains(@class, 'moz-cite-prefix')"
    " or contains(@class, 'yahoo_quoted') or @id='mail-editor-reference-message-container']"
    " | //hr[@id='stopSpelling'] | //blockquote)[1]"
)
CONTROL = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ue000]")
XML_DECLARATION = re.compile(r"^\s*<\?xml[^>]*>", re.IGNORECASE)
CONFIG = ParserConfig(display_links=False, display_images=False)


def html_to_text(html: str) -> str:
    """Readable text of an HTML body; quoted history starts after a ``QUOTE_MARK`` line."""
    html = XML_DECLARATION.sub("", CONTROL.sub("", html))
    if not html.strip():
        return ""
    try:
        tree = lxml.html.fromstring(html)
    except (lxml.etree.ParserError, ValueError):
        return ""
    _mark_quote(tree)
    text = Inscriptis(tree, CONFIG).get_text().replace("\u00a0", " ")
    # inscriptis indents nested blocks; mail text reads better flush left.
    lines = [line.strip() for line in text.split("\n")]
    return re.sub(r"\n{3,}", "\n\n", "\n".join(lines)).strip()


def _mark_quote(tree: lxml.html.HtmlElement) -> None:
    found = QUOTE_XPATH(tree)
    if not found:
        return
    quote = found[0]
    marker = lxml.html.Element("div")
    marker.text = QUOTE_MARK
    parent = quote.getparent()
    if parent is None:
        quote.insert(0, marker)
    else:
        parent.insert(parent.index(quote), marker)
