"""UTF-8 byte-range sequences for code-point ranges.

A range of code points is split into products of byte ranges with the range-splitting method used
by RE2 and Rust's ``regex-syntax`` (Cox 2010, "Regular Expression Matching in the Wild"): the
union of the byte sequences the products spell is exactly the UTF-8 encoding of the range.
Surrogates (U+D800..U+DFFF) have no UTF-8 form and are never produced.
"""

from __future__ import annotations

__all__ = [
    "MAX_UNICODE",
    "SURROGATES",
    "code_point_complement",
    "code_point_ranges",
    "encode",
    "utf8_sequences",
]

MAX_UNICODE = 0x10FFFF
SURROGATES = (0xD800, 0xDFFF)


def encode(cp: int) -> bytes:
    """UTF-8 bytes of ``cp`` (surrogates pass through, for range arithmetic)."""
    return chr(cp).encode("utf-8", "surrogatepass")


def _split_same_length(lo: int, hi: int) -> list[list[tuple[int, int]]]:
    """Split ``[lo, hi]`` (same UTF-8 length) into products of byte ranges."""
    n = len(encode(lo))
    for i in range(1, n):
        m = (1 << (6 * i)) - 1
        if lo & ~m != hi & ~m:
            if lo & m:
                return _split_same_length(lo, lo | m) + _split_same_length((lo | m) + 1, hi)
            if hi & m != m:
                return _split_same_length(lo, (hi & ~m) - 1) + _split_same_length(hi & ~m, hi)
    a, b = encode(lo), encode(hi)
    return [[(a[i], b[i]) for i in range(n)]]


def utf8_sequences(lo: int, hi: int) -> list[list[tuple[int, int]]]:
    """Byte-range sequences whose union encodes exactly the code points ``lo..hi``.

    Surrogates (U+D800..U+DFFF) are excluded: they are not scalar values and have no UTF-8 form.
    """
    out: list[list[tuple[int, int]]] = []
    pieces = [(lo, hi)]
    s_lo, s_hi = SURROGATES
    if lo <= s_hi and hi >= s_lo:
        pieces = [(lo, s_lo - 1), (s_hi + 1, hi)]
    for a, b in pieces:
        for bound in (0x7F, 0x7FF, 0xFFFF, MAX_UNICODE):
            if a > b:
                break
            if a <= bound:
                top = min(b, bound)
                out.extend(_split_same_length(a, top))
                a = top + 1
    return out


def code_point_ranges(cps: list[int]) -> list[tuple[int, int]]:
    """Sorted maximal ranges ``(lo, hi)`` covering the code points ``cps`` (sorted in place)."""
    cps.sort()
    out: list[tuple[int, int]] = []
    for cp in cps:
        if out and out[-1][1] + 1 == cp:
            out[-1] = (out[-1][0], cp)
        else:
            out.append((cp, cp))
    return out


def code_point_complement(ranges: list[tuple[int, int]]) -> list[tuple[int, int]]:
    """The code points ``0..MAX_UNICODE`` outside sorted, disjoint ``ranges``."""
    out: list[tuple[int, int]] = []
    nxt = 0
    for a, b in ranges:
        if a > nxt:
            out.append((nxt, a - 1))
        nxt = b + 1
    if nxt <= MAX_UNICODE:
        out.append((nxt, MAX_UNICODE))
    return out
