"""The GPT-2 byte-to-unicode mapping used by byte-level BPE vocabularies.

Byte-level BPE (Radford et al. 2019, "Language Models are Unsupervised Multitask Learners")
stores every token as a string of printable characters, one per byte: the 188 bytes that are
printable Latin-1 characters (``!``..``~``, ``¡``..``¬``, ``®``..``ÿ``) stand for themselves, and
the other 68 bytes (controls, space, soft hyphen, ...) are assigned the code points 256, 257, ...
in increasing byte order. A space is therefore written ``Ġ`` (U+0120) and a newline ``Ċ``.

This module builds that table and converts between the two forms, quickly (``str.translate``).
"""

from __future__ import annotations

import re
from bisect import bisect_right
from collections.abc import Sequence

__all__ = [
    "bytes_to_unicode",
    "from_byte_level",
    "from_byte_level_many",
    "to_byte_level",
    "unicode_to_bytes",
]

# A code point above Latin-1: marks characters outside the table, so that ``encode("latin-1")``
# fails on them.
_INVALID = "\u0100"
_OUTSIDE_LATIN1 = re.compile("[^\x00-\xff]")


def _gpt2_table() -> dict[int, str]:
    printable = [*range(0x21, 0x7F), *range(0xA1, 0xAD), *range(0xAE, 0x100)]
    table = {b: chr(b) for b in printable}
    extra = 0
    for b in range(256):
        if b not in table:
            table[b] = chr(256 + extra)
            extra += 1
    return table


# Built once at import and never written: translate tables for str.translate.
_BYTES_TO_UNICODE: dict[int, str] = _gpt2_table()
_UNICODE_TO_BYTES: dict[str, int] = {ch: b for b, ch in _BYTES_TO_UNICODE.items()}
_DECODE_TABLE: dict[int, str] = {
    cp: chr(_UNICODE_TO_BYTES[chr(cp)]) if chr(cp) in _UNICODE_TO_BYTES else _INVALID
    for cp in range(256 + 68)
}


def bytes_to_unicode() -> dict[int, str]:
    """Return the GPT-2 table mapping each byte value (0-255) to its printable character.

    Returns
    -------
    dict[int, str]
        A new dict with all 256 byte values.
    """
    return dict(_BYTES_TO_UNICODE)


def unicode_to_bytes() -> dict[str, int]:
    """Return the inverse of :func:`bytes_to_unicode` (character to byte value), a new dict."""
    return dict(_UNICODE_TO_BYTES)


def from_byte_level(text: str) -> bytes | None:
    """Convert a token written in byte-level form to its bytes.

    Parameters
    ----------
    text:
        Token text such as ``"Ġhello"``.

    Returns
    -------
    bytes or None
        The bytes (``b" hello"``), or ``None`` when ``text`` contains a character outside the
        GPT-2 table (so it is not byte-level text).
    """
    try:
        return text.translate(_DECODE_TABLE).encode("latin-1")
    except UnicodeEncodeError:
        return None


def from_byte_level_many(texts: Sequence[str]) -> list[bytes | None]:
    """Convert many tokens at once; same results as :func:`from_byte_level` on each, faster.

    Parameters
    ----------
    texts:
        Tokens in byte-level form.

    Returns
    -------
    list of bytes or None
        One entry per token, ``None`` for tokens that are not byte-level text.
    """
    translated = "".join(texts).translate(_DECODE_TABLE)
    # The translation maps one character to one character, so offsets carry over.
    raw = translated.encode("latin-1", "replace")
    ends: list[int] = []
    end = 0
    for text in texts:
        end += len(text)
        ends.append(end)
    out: list[bytes | None] = []
    start = 0
    for end in ends:
        out.append(raw[start:end])
        start = end
    for m in _OUTSIDE_LATIN1.finditer(translated):
        out[bisect_right(ends, m.start())] = None
    return out


def to_byte_level(data: bytes) -> str:
    """Write ``data`` in byte-level form (the inverse of :func:`from_byte_level`)."""
    return data.decode("latin-1").translate(_BYTES_TO_UNICODE)
