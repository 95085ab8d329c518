"""Pre-tokenizers: split text into words before BPE merges are applied within each word.

Byte-level BPE models (GPT-2, Radford et al. 2019; cl100k/Llama 3; Qwen 2; SmolLM) split text
with a regular expression written with Unicode property classes. The standard-library :mod:`re`
has no ``\\p{..}`` classes, so they are rebuilt from its own: ``\\w`` is exactly the characters
for which ``str.isalnum`` holds (letters, i.e. ``\\p{L}``, and numerics) plus ``_``, and ``\\d``
is the decimal digits (``\\p{Nd}``). The other numerics (``\\p{Nl}``, ``\\p{No}``: ``²``,
``½``, ``Ⅳ``...) are listed explicitly, from :mod:`unicodedata`, so ``\\p{N}`` becomes
``[\\d<those>]`` and ``\\p{L}`` becomes ``[^\\W\\d_<those>]``.

Some models apply several expressions in sequence, as llama.cpp does: each expression splits the
pieces left by the previous one, and text an expression does not match stays a piece of its own.

Where Python's Unicode database differs from the one a model was trained with, a rare character
may be grouped differently, but never lost: the pieces always concatenate back to the input.
Input bytes that are not valid UTF-8 travel through the regexes as ``surrogateescape`` code points
and come back unchanged.

SentencePiece-style models (Kudo & Richardson 2018) instead split before each run of spaces, so
that a word keeps the spaces in front of it (``"a  b"`` gives ``"a"``, ``"  b"``).
"""

from __future__ import annotations

import re

__all__ = ["PATTERNS", "RegexSplitter", "canonical_name", "split_on_spaces"]


def _other_numerics() -> str:
    """Character-class body of the numeric characters that are neither digits nor letters."""
    # All such characters lie in planes 0 and 1 (Unicode 15).
    codes = [
        cp
        for cp in range(0x20000)
        if chr(cp).isnumeric() and not chr(cp).isdecimal() and not chr(cp).isalpha()
    ]
    ranges: list[list[int]] = []
    for cp in codes:
        if ranges and ranges[-1][1] == cp - 1:
            ranges[-1][1] = cp
        else:
            ranges.append([cp, cp])
    return "".join(f"\\U{a:08x}-\\U{b:08x}" for a, b in ranges)


_NUMERICS = _other_numerics()
_L = rf"[^\W\d_{_NUMERICS}]"
_N = rf"[\d{_NUMERICS}]"
# Neither letter, number nor whitespace (``[^\s\p{L}\p{N}]``).
_OTHER = r"(?:[^\s\w]|_)"
# Neither letter, number, CR nor LF (``[^\r\n\p{L}\p{N}]``).
_OTHER_NL = r"(?:[^\r\n\w]|_)"
_CONTRACTIONS_ANY_CASE = r"'[sS]|'[tT]|'[rR][eE]|'[vV][eE]|'[mM]|'[lL][lL]|'[dD]"

_GPT2 = rf"'s|'t|'re|'ve|'m|'ll|'d| ?{_L}+| ?{_N}+| ?{_OTHER}+|\s+(?!\S)|\s+"


def _modern(digits: str) -> str:
    return (
        rf"{_CONTRACTIONS_ANY_CASE}|{_OTHER_NL}?{_L}+|{_N}{digits}"
        rf"| ?{_OTHER}+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+"
    )


#: Known pre-tokenizers by name: the regexes applied in sequence.
PATTERNS: dict[str, tuple[str, ...]] = {
    "gpt2": (_GPT2,),
    "smollm": (_N, _GPT2),
    "cl100k": (_modern("{1,3}"),),
    "qwen2": (_modern(""),),
}

_ALIASES = {
    "default": "gpt2",
    "starcoder": "smollm",
    "refact": "smollm",
    "llama3": "cl100k",
    "llama-bpe": "cl100k",
    "dbrx": "cl100k",
    "smaug-bpe": "cl100k",
    "deepseek-r1-qwen": "qwen2",
}


def canonical_name(name: str) -> str | None:
    """Return the :data:`PATTERNS` key for a pre-tokenizer name (llama.cpp names included).

    Returns ``None`` when the name is not known.
    """
    name = _ALIASES.get(name, name)
    return name if name in PATTERNS else None


class RegexSplitter:
    """Split UTF-8 bytes into pre-tokens with a named sequence of regexes.

    Parameters
    ----------
    name:
        A :data:`PATTERNS` key or alias (``"gpt2"``, ``"smollm"``, ``"cl100k"``, ``"qwen2"``...).

    Raises
    ------
    ValueError
        If the name is unknown.
    """

    def __init__(self, name: str) -> None:
        key = canonical_name(name)
        if key is None:
            raise ValueError(f"unknown pre-tokenizer {name!r}; known: {sorted(PATTERNS)}")
        self.name = key
        self._regexes = [re.compile(p) for p in PATTERNS[key]]

    def __call__(self, data: bytes) -> list[bytes]:
        """Split ``data``; the pieces concatenate to ``data``."""
        pieces = [data.decode("utf-8", "surrogateescape")]
        for rx in self._regexes:
            out: list[str] = []
            for piece in pieces:
                pos = 0
                for m in rx.finditer(piece):
                    start, end = m.span()
                    if start > pos:
                        out.append(piece[pos:start])
                    if end > start:
                        out.append(piece[start:end])
                    pos = end
                if pos < len(piece):
                    out.append(piece[pos:])
            pieces = out
        return [p.encode("utf-8", "surrogateescape") for p in pieces]


_SPACE_WORDS = re.compile(rb"[^ ]+| +[^ ]*")


def split_on_spaces(data: bytes) -> list[bytes]:
    """Split before each run of spaces (SentencePiece-style words); pieces concatenate to data."""
    return _SPACE_WORDS.findall(data)
