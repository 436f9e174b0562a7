"""Which text encoding a file was saved in — decided on evidence, never guessed silently.

A byte-order mark decides (UTF-8, UTF-16, UTF-32); bytes that are valid UTF-8 and read as
real text are UTF-8. Otherwise charset-normalizer proposes candidates (its `from_bytes`
over a large sample) and every candidate — always including Windows-1252 and GB18030 — is
decoded in full and checked for mojibake: charset-normalizer's mess ratio, control or
private-use characters, words that mix Latin letters with another script, CJK characters
wedged between Latin letters (a European file read as GB18030), and runs of accented
letters and symbols (a Chinese file read as Windows-1252). The readings that pass are grouped
by the text they give. One text: it is chosen. Several: Windows-1252, the usual code page
of Western exports, or GB18030, that of Chinese ones, is chosen when it is one of them and no
other reading is clearly better; otherwise the import stops with the candidates, what each
reads, and `--encoding`.
"""

from __future__ import annotations

import codecs
import contextlib
import re
import unicodedata
from dataclasses import dataclass
from pathlib import Path

from charset_normalizer import from_bytes
from charset_normalizer.md import mess_ratio

from engine.core.errors import DataError
from engine.core.messages import Listing, Message

SAMPLE_BYTES = 1 << 20  # what charset-normalizer and the mojibake checks read
# candidates charset-normalizer may propose (the common code pages of shop exports)
CANDIDATES = ["cp1252", "gb18030", "cp1250", "cp1251", "cp1253", "cp1254", "cp1257", "big5",
              "shift_jis", "euc_kr"]
ALWAYS = ("cp1252", "gb18030")
NAMES = {**{name: Message(f"enc_{name}") for name in CANDIDATES},  # "Windows-1252 (…)"
         "utf-8": "UTF-8", "utf-16": "UTF-16", "utf-32": "UTF-32",
         "utf-16-le": "UTF-16", "utf-16-be": "UTF-16"}
BOMS = ((codecs.BOM_UTF32_LE, "utf-32"), (codecs.BOM_UTF32_BE, "utf-32"),
        (codecs.BOM_UTF8, "utf-8"), (codecs.BOM_UTF16_LE, "utf-16"),
        (codecs.BOM_UTF16_BE, "utf-16"))
MAX_MESS = 0.5  # well above charset-normalizer's cut-off (0.2): short texts score noisily
COHERENCE_MARGIN = 0.05  # how much more coherent a reading must be to beat Windows-1252
_LATIN_RUN = re.compile(r"[\u00a0-\u024f\u2000-\u20cf\u2100-\u214f]{3,}")
_RUN = re.compile(r"[^\x00-\x7f\s]{3,}")
_WORD = re.compile(r"[^\W\d_]+")
_CJK = re.compile(r"[\u3400-\u9fff\uf900-\ufaff]")


@dataclass(frozen=True)
class Detected:
    """The encoding a file is read with and why (`decisive`: evidence of its own, not only
    ASCII that every encoding reads alike)."""

    encoding: str
    evidence: str
    decisive: bool = True


class AmbiguousEncoding(DataError):
    """Several encodings read the file as real text; `candidates` names them, best first."""

    def __init__(self, message: str, candidates: list[str]) -> None:
        super().__init__(message)
        self.candidates = candidates


def _script(char: str) -> str:
    if char < "\u0250":  # ASCII, Latin-1 and Latin Extended letters (and µ ª º)
        return "LATIN"
    name = unicodedata.name(char, "")
    first = name.split(" ", 1)[0]
    return "CJK" if first in ("CJK", "HIRAGANA", "KATAKANA") else first


# the lead bytes of the everyday characters of each Chinese encoding (GB2312 level 1, Big5
# "frequently used"): a reading made mostly of rare characters is another encoding's bytes
COMMON_LEADS = {"gb18030": ("gb2312", 0xB0, 0xD7), "big5": ("big5", 0xA4, 0xC6)}
MIN_COMMON = 0.6


def _is_common(char: str, encodings: tuple[str, ...] = ("gb18030", "big5")) -> bool:
    """An everyday Chinese character (GB2312 level 1 or Big5 frequently used)."""
    for encoding in encodings:
        codec, low, high = COMMON_LEADS[encoding]
        try:
            if low <= char.encode(codec)[0] <= high:
                return True
        except UnicodeEncodeError:
            continue
    return False


def _common_share(text: str, encoding: str) -> float:
    codec, low, high = COMMON_LEADS[encoding]
    chars = _CJK.findall(text)
    common = 0
    for char in chars:
        with contextlib.suppress(UnicodeEncodeError):
            common += low <= char.encode(codec)[0] <= high
    return common / len(chars) if chars else 1.0


def _is_symbol(char: str) -> bool:
    """A symbol or stray mark (§ ¶ ¤ ±), not a quote, dash, bracket or Catalan middle dot."""
    return unicodedata.category(char) in ("Sm", "Sc", "Sk", "So") or char in "§¶"


def _symbol_runs(text: str) -> int:
    """Characters in runs of 3+ non-ASCII characters that mix letters and symbols."""
    return sum(len(run) for run in _RUN.findall(text)
               if any(_is_symbol(c) for c in run) and any(c.isalpha() for c in run))


def _wedged_symbols(text: str) -> int:
    """Non-ASCII symbols between two letters ("А¶С"): bytes of a multi-byte encoding."""
    return sum(1 for i in range(1, len(text) - 1)
               if not text[i].isascii() and _is_symbol(text[i])
               and text[i - 1].isalpha() and text[i + 1].isalpha())


def mojibake(text: str) -> str | None:
    """Why `text` looks like a wrong decoding (None when it reads as real text)."""
    if any("\x80" <= c <= "\x9f" or c == "\ufffd" or unicodedata.category(c) == "Co"
           for c in set(text) if not c.isascii()):
        return Message("odd_control")
    nonascii = sum(1 for c in text if not c.isascii())
    if not nonascii:
        return None
    if mess_ratio(text, maximum_threshold=1.0) > MAX_MESS:
        return Message("odd_messy")
    in_runs = sum(len(m) for m in _LATIN_RUN.findall(text))
    if in_runs > 0.5 * nonascii:
        return Message("odd_latin_runs")
    halfwidth = sum(1 for c in text if "\uff61" <= c <= "\uff9f")
    if halfwidth > 0.5 * nonascii:
        return Message("odd_halfwidth")
    if _symbol_runs(text) > 0.2 * nonascii:
        return Message("odd_symbol_runs")
    if _wedged_symbols(text) >= 2:
        return Message("odd_wedged_symbols")
    cjk = [m.start() for m in _CJK.finditer(text)]
    if cjk:
        wedged = sum(1 for i in cjk if not _is_common(text[i]) and any(
            0 <= j < len(text) and text[j].isascii() and text[j].isalpha() for j in (i - 1, i + 1)))
        if wedged > 0.5 * len(cjk):
            return Message("odd_rare_cjk")
    words = [w for w in _WORD.findall(text) if not w.isascii()]
    mixed = sum(1 for word in words if len({_script(c) for c in word} - {"CJK"}) > 1
                or {"CJK", "HANGUL"} <= {_script(c) for c in word})
    if mixed > 0.5 * len(words):  # a misreading mixes scripts in most words; "500μg" is one
        return Message("odd_mixed_words", mixed=mixed, n=len(words))
    return None


def _decode(data: bytes, encoding: str) -> str | None:
    try:
        return data.decode(encoding)
    except (UnicodeDecodeError, LookupError):
        return None


def _bom(data: bytes) -> str | None:
    return next((name for bom, name in BOMS if data.startswith(bom)), None)


def _utf16_without_bom(data: bytes) -> str | None:
    """UTF-16 text without a BOM: NUL bytes at every other position (ASCII-range text)."""
    head = data[:4096]
    if len(head) < 4:
        return None
    even, odd = head[0::2].count(0), head[1::2].count(0)
    if odd > 0.4 * len(head[1::2]) and even < 0.05 * len(head[0::2]):
        return "utf-16-le"
    if even > 0.4 * len(head[0::2]) and odd < 0.05 * len(head[1::2]):
        return "utf-16-be"
    return None


@dataclass(frozen=True)
class _Reading:
    encoding: str
    text: str
    chaos: float  # charset-normalizer's mess ratio of the sample
    coherence: float  # charset-normalizer's language coherence of the sample
    problem: str | None  # why it looks like mojibake, or None


def _readings(data: bytes) -> list[_Reading]:
    """Every candidate encoding that decodes the whole file, best first."""
    matches = from_bytes(data[:SAMPLE_BYTES], cp_isolation=CANDIDATES)
    scores = {m.encoding: (m.chaos, m.coherence) for m in matches}
    order = dict.fromkeys([m.encoding for m in matches if m.encoding in CANDIDATES] + [*ALWAYS])
    readings = []
    for encoding in order:
        text = _decode(data, encoding)
        if text is None:
            continue
        sample = text[:SAMPLE_BYTES]
        chaos, coherence = scores.get(encoding, (mess_ratio(sample, maximum_threshold=1.0), 0.0))
        problem = mojibake(sample)
        if problem is None and encoding in COMMON_LEADS and \
                _common_share(sample, encoding) < MIN_COMMON:
            problem = Message("odd_rare")
        readings.append(_Reading(encoding, text, chaos, coherence, problem))
    return readings


def _first_difference(text: str, other: str) -> str:
    """The first word where two readings differ, to show in a message."""
    for a, b in zip(text.split(), other.split(), strict=False):
        if a != b:
            return a[:40]
    return text[:40]


def _name(group: list[_Reading]) -> str:
    names = [r.encoding for r in group]
    return next((e for e in ALWAYS if e in names), names[0])


# what Western European text is made of: where Windows-1252 differs from a rival reading only
# in these, Windows-1252 is preferred (ð þ ý, say, are Icelandic but also Turkish ğ ş ı)
WESTERN_LETTERS = frozenset("àáâäãåæçèéêëìíîïñòóôöõøùúûüÿßœšžÀÁÂÄÃÅÆÇÈÉÊËÌÍÎÏÑÒÓÔÖÕØÙÚÛÜŸŒŠŽ"
                            "€£’‘“”–—…°«»©®™")


def _western_letters(western: str, rival: str) -> bool:
    """Whether the characters Windows-1252 reads differently from `rival` are Western ones."""
    return len(western) == len(rival) and all(
        a in WESTERN_LETTERS for a, b in zip(western, rival, strict=True) if a != b)


def _beats(rival: list[_Reading], usual: list[_Reading]) -> bool:
    """Whether charset-normalizer finds a reading clearly better than the usual encoding's."""
    chaos = min(r.chaos for r in rival) < min(r.chaos for r in usual) - 0.005
    coherence = max(r.coherence for r in rival) > max(r.coherence for r in usual) + 0.02
    return chaos or coherence


def _ambiguous(path: Path, groups: dict[str, list[_Reading]]) -> AmbiguousEncoding:
    texts = list(groups)
    shown = Listing([Message("encoding_reads", name=NAMES[_name(groups[t])], text=(
        _first_difference(t, texts[1 if i == 0 else 0]))) for i, t in enumerate(texts[:4])],
        "; ")
    codes = Listing([Message("encoding_option", name=_name(groups[t])) for t in texts[:4]],
                    " or ")
    return AmbiguousEncoding(Message("encoding_ambiguous", path=str(path), shown=shown,
                                     codes=codes), [_name(groups[t]) for t in texts])


def _choose(path: Path, data: bytes) -> Detected:
    readings = _readings(data)
    groups: dict[str, list[_Reading]] = {}
    for reading in readings:
        if reading.problem is None:
            groups.setdefault(reading.text, []).append(reading)
    if not groups:
        tried = Listing([Message("encoding_problem", name=NAMES[r.encoding], problem=r.problem)
                         for r in readings[:3]], "; ")
        raise DataError(Message("no_common_encoding", path=str(path),
                                tried=tried or Message("none_decodes")))
    if len(groups) == 1:
        name = _name(next(iter(groups.values())))
        return Detected(name, Message("evidence_only", name=NAMES[name]))
    preferred = [t for t, g in groups.items() if set(ALWAYS) & {r.encoding for r in g}]
    if len(preferred) != 1 or any(_beats(g, groups[preferred[0]]) for t, g in groups.items()
                                  if t != preferred[0]):
        raise _ambiguous(path, groups)
    chosen = preferred[0]
    name = _name(groups[chosen])
    if name == "cp1252" and not all(_western_letters(chosen, t) for t in groups if t != chosen):
        raise _ambiguous(path, groups)
    return Detected(name, Message("evidence_usual", name=NAMES[name],
                                  others=_would_read(groups, chosen)))


def _would_read(groups: dict[str, list[_Reading]], chosen: str) -> Listing:
    """What the other encodings would read at their first difference from `chosen`, those
    that read the same word there named together ("cp1250 or cp1257 would read 'Crčme'")."""
    by_word: dict[str, list[str]] = {}
    for text, group in groups.items():
        if text != chosen:
            by_word.setdefault(_first_difference(text, chosen), []).append(_name(group))
    return Listing([Message("evidence_would_read", name=Listing(names, " or "), text=word)
                    for word, names in by_word.items()])


def detect(path: Path, data: bytes) -> Detected:
    """The encoding of `data` (the bytes of `path`) with its evidence, or a `DataError`."""
    bom = _bom(data)
    if bom is not None:
        if _decode(data, bom) is None:
            raise DataError(Message("bad_bom", path=str(path), name=NAMES[bom]))
        return Detected(bom, Message("evidence_bom", name=NAMES[bom]))
    wide = _utf16_without_bom(data)
    if wide is not None and _decode(data, wide) is not None:
        return Detected(wide, Message("evidence_utf16"))
    if b"\x00" in data[:65536]:
        raise DataError(Message("binary_file", file=str(path)))
    text = _decode(data, "utf-8")
    if text is None:
        return _choose(path, data)
    if text.isascii():
        return Detected("utf-8", Message("evidence_ascii"), decisive=False)
    twice = _decode(text.encode("cp1252", errors="ignore"), "utf-8")
    if twice is not None and twice != text and not twice.isascii():
        raise DataError(Message("decoded_twice", path=str(path),
                                wrong=_first_difference(text, twice),
                                right=_first_difference(twice, text)))
    problem = mojibake(text[:SAMPLE_BYTES])
    if problem is None:
        return Detected("utf-8", Message("evidence_utf8"))
    others = [r for r in _readings(data) if r.problem is None]
    if others:  # valid UTF-8 that reads oddly, and another encoding reads it as real text
        groups = {text: [_Reading("utf-8", text, 0.0, 0.0, None)]}
        for reading in others:
            groups.setdefault(reading.text, []).append(reading)
        raise _ambiguous(path, groups)
    return Detected("utf-8", Message("evidence_utf8_odd", problem=problem))


def settle_together(found: dict[str, Detected | AmbiguousEncoding]) -> dict[str, Detected]:
    """Encodings of the files of one import: a file ambiguous on its own takes the encoding
    another file was decided in on its own evidence, when that is one of its candidates (an
    export's files share an encoding); otherwise its error is raised."""
    decided = {name: d for name, d in found.items() if isinstance(d, Detected)}
    for name, result in found.items():
        if isinstance(result, Detected):
            continue
        sibling = next((n for n, d in decided.items() if d.decisive
                        and d.encoding in result.candidates), None)
        if sibling is None:
            raise result
        encoding = decided[sibling].encoding
        alone = ", ".join(result.candidates)
        decided[name] = Detected(encoding, Message("evidence_sibling", alone=alone,
                                                   name=NAMES[encoding],
                                                   file=Path(sibling).name))
    return decided


def check_given(path: Path, data: bytes, encoding: str) -> str:
    """Evidence for an encoding the user gave; refused when its text is mojibake and another
    encoding reads the file as real text."""
    text = _decode(data, encoding)
    problem = None if text is None else mojibake(text[:SAMPLE_BYTES])
    if problem is None:
        return Message("evidence_given")
    same = codecs.lookup(encoding).name
    better = [r.encoding for r in _readings(data)
              if r.problem is None and codecs.lookup(r.encoding).name != same]
    if not better:
        return Message("evidence_given_odd", problem=problem)
    better = [e for e in ALWAYS if e in better] + [e for e in better if e not in ALWAYS]
    raise DataError(Message("encoding_looks_wrong", path=str(path), encoding=encoding,
                            problem=problem, name=NAMES[better[0]], better=better[0]))


def candidates_for(data: bytes, tried: str) -> list[str]:
    """Encodings that read `data` as real text, other than the one that failed."""
    found = [r.encoding for r in _readings(data) if r.problem is None]
    names = [e for e in ALWAYS if e in found] + [e for e in found if e not in ALWAYS]
    if _decode(data, "utf-8") is not None:
        names.insert(0, "utf-8")
    same = codecs.lookup(tried).name
    return [n for n in dict.fromkeys(names) if codecs.lookup(n).name != same]
