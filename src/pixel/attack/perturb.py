"""The ten orthographic perturbations of one word (the letters between a token's punctuation, see attacks.py).

Each function is ``(word, severity, rng) -> str``; ``rng`` is a ``random.Random`` and every random choice
comes from it. Word-level perturbations (swaps, disemvowel, truncate, typos) change the word whenever they
apply: attacks.py decides with probability = severity *whether* a word is attacked. Character-level ones
(phonetic, intrude, confusable) are given every word and change each character or spelling site with
probability = severity, as the original (spec 3.5). ``split_word`` is the segmentation attack for data with
one label per word (attacks.py joins words of running text instead).
"""

from __future__ import annotations

import random
import string
import unicodedata

from . import tables

SHUFFLE_TRIES = 10
INTRUDERS = string.punctuation


def recase(template: str, replacement: str) -> str:
    """``replacement`` (lower case) in the case pattern of ``template``: ALL CAPS, Capitalised or as is."""
    if len(template) > 1 and template.isupper():
        return replacement.upper()
    if template[:1].isupper():
        return replacement[:1].upper() + replacement[1:]
    return replacement


def _shuffled(chars: str, rng: random.Random) -> str:
    """A permutation of ``chars`` that differs from it when one exists: up to SHUFFLE_TRIES shuffles, then the
    first two neighbouring characters that differ are swapped."""
    for _ in range(SHUFFLE_TRIES):
        letters = list(chars)
        rng.shuffle(letters)
        if "".join(letters) != chars:
            return "".join(letters)
    for i in range(len(chars) - 1):
        if chars[i] != chars[i + 1]:
            return chars[:i] + chars[i + 1] + chars[i] + chars[i + 2:]
    return chars


def full_swap(word: str, severity: float, rng: random.Random) -> str:
    """All characters shuffled (words of 3+ characters; BERT-Defense's full swap)."""
    return _shuffled(word, rng) if len(word) >= 3 else word


def inner_swap(word: str, severity: float, rng: random.Random) -> str:
    """The characters between the first and the last shuffled (words of 4+ characters)."""
    if len(word) < 4:
        return word
    return word[0] + _shuffled(word[1:-1], rng) + word[-1]


def is_vowel(char: str) -> bool:
    """a, e, i, o, u in either case, also with diacritics (é, ö, ü, ...), and the Turkish dotless ı."""
    return char == "ı" or unicodedata.normalize("NFD", char)[:1].lower() in ("a", "e", "i", "o", "u")


def disemvowel(word: str, severity: float, rng: random.Random) -> str:
    """Every vowel removed (words of 3+ characters that are not all vowels)."""
    if len(word) < 3 or all(is_vowel(c) for c in word):
        return word
    return "".join(c for c in word if not is_vowel(c))


def truncate(word: str, severity: float, rng: random.Random) -> str:
    """The last character dropped (words of 4+ characters)."""
    return word[:-1] if len(word) > 3 else word


def keyboard_typo(word: str, severity: float, rng: random.Random) -> str:
    """One character that is a QWERTY key (letter or digit) replaced by a neighbouring key, case kept."""
    neighbours = tables.keyboard_neighbours()
    positions = [i for i, c in enumerate(word) if c.lower() in neighbours]
    if not positions:
        return word
    i = rng.choice(positions)
    typed = rng.choice(neighbours[word[i].lower()])
    return word[:i] + (typed.upper() if word[i].isupper() else typed) + word[i + 1:]


def natural_typo(word: str, severity: float, rng: random.Random) -> str:
    """A listed English word replaced by one of its common misspellings (tables/natural_typos.tsv)."""
    typos = tables.natural_typos().get(word.lower())
    return recase(word, rng.choice(typos)) if typos else word


def phonetic(word: str, severity: float, rng: random.Random) -> str:
    """A listed English word respelt as it sounds with probability ``severity`` (tables/phonetic.tsv: "you"
    -> "u", "night" -> "nite"); in other words each site of a spelling rule ("ph" -> "f", "ck" -> "k", "c"
    before e/i/y -> "s", double consonants -> single, ...) rewritten with probability ``severity``."""
    respellings = tables.phonetic_words().get(word.lower())
    if respellings:
        return recase(word, rng.choice(respellings)) if rng.random() < severity else word
    rules = tables.phonetic_rules()
    pieces, i = [], 0
    while i < len(word):
        for pattern, template in rules:
            match = pattern.match(word, i)
            if match:
                matched = match.group(0)
                pieces.append(recase(matched, match.expand(template)) if rng.random() < severity else matched)
                i = match.end()
                break
        else:
            pieces.append(word[i])
            i += 1
    return "".join(pieces)


def intrude(word: str, severity: float, rng: random.Random) -> str:
    """One punctuation character (chosen per word) inserted into each gap between two characters with
    probability ``severity`` (words of 2+ characters)."""
    if len(word) < 2:
        return word
    intruder = rng.choice(INTRUDERS)
    pieces = [word[0]]
    for char in word[1:]:
        if rng.random() < severity:
            pieces.append(intruder)
        pieces.append(char)
    return "".join(pieces)


def confusable(word: str, severity: float, rng: random.Random) -> str:
    """Each character that has Unicode look-alikes (tables/confusables.tsv) replaced by a random one of
    them with probability ``severity``."""
    table = tables.confusables()
    return "".join(rng.choice(table[c]) if c in table and rng.random() < severity else c for c in word)


def split_word(word: str, severity: float, rng: random.Random) -> str:
    """A space inserted at a random position inside the word (words of 2+ characters): segmentation that
    keeps one token, and so one label, per word."""
    if len(word) < 2:
        return word
    i = rng.randrange(1, len(word))
    return word[:i] + " " + word[i:]
