"""Builders of hostile and broken messages: the parser's torture set.

Each builder returns raw bytes.  Big ones are built at test time rather than committed.
"""

from __future__ import annotations

import base64
import random

HEAD = (b"From: Client <client@example.com>\r\nTo: support@desk.example\r\n"
        b"Subject: torture\r\nMessage-ID: <torture@example.com>\r\n")


def truncated() -> bytes:
    """A multipart message cut off in the middle of a base64 attachment."""
    return (HEAD + b'Content-Type: multipart/mixed; boundary="b1"\r\n\r\n--b1\r\n'
            b"Content-Type: text/plain\r\n\r\nMy deposit is missing\r\n--b1\r\n"
            b"Content-Type: application/pdf; name=a.pdf\r\nContent-Transfer-Encoding: base64\r\n\r\nJVBERi0xLjQK")


def binary_garbage(seed: int = 7, size: int = 64 * 1024) -> bytes:
    """Random bytes, as a corrupted spool file would give."""
    return random.Random(seed).randbytes(size)


def big_attachment(megabytes: int = 25) -> bytes:
    """A short question with a large base64 attachment."""
    payload = base64.encodebytes(b"\x00\x01" * (megabytes * 512 * 1024))
    return (HEAD + b'Content-Type: multipart/mixed; boundary="b1"\r\n\r\n--b1\r\n'
            b"Content-Type: text/plain\r\n\r\nPlease see the statement attached.\r\n--b1\r\n"
            b"Content-Type: application/pdf; name=statement.pdf\r\n"
            b"Content-Transfer-Encoding: base64\r\n\r\n" + payload + b"\r\n--b1--\r\n")


def single_line_body(megabytes: int = 1) -> bytes:
    """A body of one line with no line break at all."""
    return HEAD + b"Content-Type: text/plain\r\n\r\n" + b"order rejected " * (megabytes * 1024 * 1024 // 15)


def deep_nesting(levels: int = 1000) -> bytes:
    """Multiparts nested ``levels`` deep around one text part."""
    opening = b"".join(b'--b%d\r\nContent-Type: multipart/mixed; boundary="b%d"\r\n\r\n' % (i, i + 1)
                       for i in range(levels))
    closing = b"".join(b"--b%d--\r\n" % i for i in range(levels, -1, -1))
    return (HEAD + b'Content-Type: multipart/mixed; boundary="b0"\r\n\r\n' + opening
            + b"--b%d\r\nContent-Type: text/plain\r\n\r\nhello from the bottom\r\n" % levels + closing)


def nul_bytes() -> bytes:
    """NUL bytes in headers and body."""
    return (b"From: Cli\x00ent <client@example.com>\r\nSubject: wi\x00thdrawal\r\n"
            b"Content-Type: text/plain; charset=utf-8\r\n\r\nMy with\x00drawal is late\x00\r\n")


def invalid_base64() -> bytes:
    """A base64 body with characters outside the alphabet and broken padding."""
    return (HEAD + b"Content-Type: text/plain; charset=utf-8\r\nContent-Transfer-Encoding: base64\r\n\r\n"
            + b"TXkgb3JkZXIg!!!aXMgc3R1Y2s*=\r\n")


def header_injection() -> bytes:
    """Encoded words that decode to CR/LF and fake headers, and a bare CR in a header."""
    return (b"From: =?utf-8?q?Eve=0D=0ABcc:_all@example.com?= <eve@example.com>\r\n"
            b"Subject: =?utf-8?b?aGVsbG8NClgtSW5qZWN0ZWQ6IHllcw==?=\r\nX-Odd: a\rb\r\n"
            b"Content-Type: text/plain\r\n\r\nhello\r\n")


def many_headers(count: int = 10_000) -> bytes:
    """``count`` Received headers before the real ones."""
    received = b"".join(b"Received: from relay%d.example by mx.example; Mon, 3 Nov 2025 10:00:00 +0000\r\n" % i
                        for i in range(count))
    return received + HEAD + b"Content-Type: text/plain\r\n\r\nwhere is my money\r\n"


def empty() -> bytes:
    """Zero bytes."""
    return b""


TORTURE_SET = {
    "truncated": truncated, "binary_garbage": binary_garbage, "big_attachment": big_attachment,
    "single_line_body": single_line_body, "deep_nesting": deep_nesting, "nul_bytes": nul_bytes,
    "invalid_base64": invalid_base64, "header_injection": header_injection,
    "many_headers": many_headers, "empty": empty,
}
