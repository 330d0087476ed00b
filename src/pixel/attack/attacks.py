"""The attacks by name, severities, and an :class:`Attacker` that applies one attack to words or running text.

Rules (spec 3.5, after BERT-Defense): a token (a run of non-space characters) is split into leading
punctuation, the *word* (first to last letter or digit) and trailing punctuation; only the word is perturbed,
tokens without a letter or digit are left alone.

- word-level attacks (full-swap, inner-swap, disemvowel, truncate, keyboard-typo, natural-typo): each word
  is attacked with probability = severity;
- character-level attacks (phonetic, intrude, confusable): every word, each character or spelling site
  changed with probability = severity;
- segmentation: running text (classification, QA) loses each space between two tokens with probability =
  severity (words are joined, as the original); word-aligned data (POS, NER, parsing: one label per word)
  gets a space inserted inside each word with probability = severity instead, so the word count and the
  labels stay as they are.

Severity 0 changes nothing; all randomness comes from the attacker's own ``random.Random(seed)``.
"""

from __future__ import annotations

import bisect
import math
import random
import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

from . import perturb

SEVERITIES = (0.2, 0.5, 0.8)  # the original's 20 / 50 / 80 %
DEFAULT_SEED = 42  # the original's seed


@dataclass(frozen=True)
class Attack:
    name: str
    level: str  # "word", "character" or "segmentation"
    perturb: Callable[[str, float, random.Random], str]


ATTACKS: dict[str, Attack] = {a.name: a for a in (
    Attack("phonetic", "character", perturb.phonetic),
    Attack("full-swap", "word", perturb.full_swap),
    Attack("inner-swap", "word", perturb.inner_swap),
    Attack("disemvowel", "word", perturb.disemvowel),
    Attack("truncate", "word", perturb.truncate),
    Attack("keyboard-typo", "word", perturb.keyboard_typo),
    Attack("natural-typo", "word", perturb.natural_typo),
    Attack("intrude", "character", perturb.intrude),
    Attack("segmentation", "segmentation", perturb.split_word),
    Attack("confusable", "character", perturb.confusable),
)}


def get_attack(name: str) -> Attack:
    if name not in ATTACKS:
        raise ValueError(f"unknown attack {name!r}; known attacks: {', '.join(ATTACKS)}")
    return ATTACKS[name]


def attack_names(spec: str) -> list[str]:
    """``"all"`` or a comma-separated list of attack names, checked."""
    names = list(ATTACKS) if spec.strip() == "all" else [n.strip() for n in spec.split(",") if n.strip()]
    unknown = [name for name in names if name not in ATTACKS]
    if unknown or not names:
        raise ValueError(f"unknown attack {', '.join(map(repr, unknown or [spec]))}; known attacks: "
                         f"{', '.join(ATTACKS)}, or 'all'")
    return names


def parse_severity(value: str | float) -> float:
    """A severity as a fraction in [0, 1]: ``0.2`` or ``20`` (a percentage, for values above 1)."""
    try:
        number = float(value)
    except (TypeError, ValueError):
        raise ValueError(f"severity {value!r} is not a number; give a fraction in [0, 1] (0.2) or a "
                         "percentage in (1, 100] (20)") from None
    if not math.isfinite(number) or not 0 <= number <= 100:
        raise ValueError(f"severity {value!r} is outside [0, 1] (or 0-100 as a percentage); e.g. 0.2 or 20")
    return number / 100 if number > 1 else number


def parse_severities(spec: str) -> list[float]:
    """Comma-separated severities (see :func:`parse_severity`)."""
    values = [parse_severity(part) for part in spec.split(",") if part.strip()]
    if not values:
        raise ValueError(f"no severity in {spec!r}; e.g. 0.2,0.5,0.8 or 20,50,80")
    return values


def severity_label(severity: float) -> str:
    """``0.2`` -> ``"20%"``."""
    return f"{severity * 100:g}%"


_TOKENS = re.compile(r"\S+|\s+")


def word_span(token: str) -> tuple[int, int]:
    """(start, end) of the word inside a token: first to last letter or digit; (0, 0) when there is none."""
    letters = [i for i, c in enumerate(token) if c.isalnum()]
    return (letters[0], letters[-1] + 1) if letters else (0, 0)


@dataclass
class AttackedText:
    """An attacked text and, per piece of the original (space run, punctuation, word), its span in the
    original and in the attacked text: ``(old_start, old_end, new_start, new_end, changed)``."""

    text: str
    pieces: list[tuple[int, int, int, int, bool]] = field(default_factory=list)

    def position(self, offset: int, is_end: bool) -> int | None:
        """Where character offset ``offset`` of the original is in the attacked text: exact at a piece
        boundary or inside an unchanged piece; None inside a changed piece."""
        starts = [piece[0] for piece in self.pieces]
        index = bisect.bisect_right(starts, offset - 1 if is_end else offset) - 1
        if index < 0:
            return 0
        old_start, old_end, new_start, new_end, changed = self.pieces[index]
        if offset == (old_end if is_end else old_start):
            return new_end if is_end else new_start
        if changed or not old_start <= offset <= old_end:
            return None
        return new_start + offset - old_start

    def relocate(self, start: int, end: int) -> tuple[int, int] | None:
        """The span ``[start, end)`` of the original in the attacked text, or None when a boundary falls
        inside a changed word."""
        new_start, new_end = self.position(start, False), self.position(end, True)
        return None if new_start is None or new_end is None else (new_start, new_end)


class Attacker:
    """One attack at one severity with its own random generator; call it on words or texts in order."""

    def __init__(self, attack: str, severity: float, seed: int = DEFAULT_SEED) -> None:
        if not isinstance(severity, int | float) or not 0 <= severity <= 1:
            raise ValueError(f"severity {severity!r} is outside [0, 1]; give a fraction such as 0.2")
        self.attack = get_attack(attack)
        self.severity = float(severity)
        self.rng = random.Random(seed)
        self.words_seen = self.words_changed = self.spaces_removed = 0

    def word(self, word: str, aligned: bool) -> str:
        """One word (no punctuation around it). ``aligned``: the word carries a label (segmentation then
        splits inside it)."""
        level = self.attack.level
        attacked = word
        if level == "character":
            attacked = self.attack.perturb(word, self.severity, self.rng)
        elif (level != "segmentation" or aligned) and self.rng.random() < self.severity:
            attacked = self.attack.perturb(word, self.severity, self.rng)
        # (segmentation of running text acts on the spaces, see text())
        self.words_seen += 1
        self.words_changed += attacked != word
        return attacked

    def token(self, token: str, aligned: bool = True) -> str:
        """One token with its punctuation: only the word inside is attacked."""
        start, end = word_span(token)
        if start == end:
            return token
        return token[:start] + self.word(token[start:end], aligned) + token[end:]

    def words(self, words: Iterable[str]) -> list[str]:
        """Word-aligned data (one label per word): one attacked token per word, the count unchanged."""
        return [self.token(word) for word in words]

    def text(self, text: str) -> AttackedText:
        """Running text; keeps the piece spans so that answer offsets can be moved (QA)."""
        pieces: list[tuple[int, int, int, int, bool]] = []
        out: list[str] = []
        length = 0

        def add(old_start: int, old: str, new: str) -> None:
            nonlocal length
            pieces.append((old_start, old_start + len(old), length, length + len(new), new != old))
            out.append(new)
            length += len(new)

        for match in _TOKENS.finditer(text):
            piece, at = match.group(0), match.start()
            if piece.isspace():
                inner = 0 < at and match.end() < len(text)
                joined = self.attack.level == "segmentation" and inner and self.rng.random() < self.severity
                self.spaces_removed += joined
                add(at, piece, "" if joined else piece)
                continue
            start, end = word_span(piece)
            if start == end:
                add(at, piece, piece)
                continue
            if start:
                add(at, piece[:start], piece[:start])
            add(at + start, piece[start:end], self.word(piece[start:end], aligned=False))
            if end < len(piece):
                add(at + end, piece[end:], piece[end:])
        return AttackedText("".join(out), pieces)
