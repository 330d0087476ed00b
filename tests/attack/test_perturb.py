"""What each perturbation does to one word (pixel.attack.perturb) and the tables behind them."""

from __future__ import annotations

import random
import unicodedata

import pytest

from pixel.attack import perturb, tables


def rng() -> random.Random:
    return random.Random(0)


@pytest.mark.parametrize("word", ["word", "letters", "Istanbul", "aab"])
def test_full_swap_permutes_and_changes(word):
    for seed in range(20):
        swapped = perturb.full_swap(word, 1.0, random.Random(seed))
        assert sorted(swapped) == sorted(word) and swapped != word


@pytest.mark.parametrize("word", ["a", "ab", "aaa"])
def test_full_swap_leaves_what_cannot_change(word):
    assert perturb.full_swap(word, 1.0, rng()) == word


def test_inner_swap_keeps_the_ends():
    for seed in range(20):
        swapped = perturb.inner_swap("problem", 1.0, random.Random(seed))
        assert swapped[0] == "p" and swapped[-1] == "m" and sorted(swapped) == sorted("problem")
        assert swapped != "problem"
    assert perturb.inner_swap("fox", 1.0, rng()) == "fox"  # fewer than 4 characters
    assert perturb.inner_swap("boot", 1.0, rng()) == "boot"  # the inner "oo" has one order only


def test_disemvowel():
    assert perturb.disemvowel("quick", 1.0, rng()) == "qck"
    assert perturb.disemvowel("Über", 1.0, rng()) == "br"  # vowels with diacritics too
    assert perturb.disemvowel("ıslak", 1.0, rng()) == "slk"  # Turkish dotless i
    assert perturb.disemvowel("Ankara", 1.0, rng()) == "nkr"
    assert perturb.disemvowel("aei", 1.0, rng()) == "aei"  # only vowels: left alone
    assert perturb.disemvowel("of", 1.0, rng()) == "of"  # fewer than 3 characters


def test_truncate():
    assert perturb.truncate("word", 1.0, rng()) == "wor"
    assert perturb.truncate("the", 1.0, rng()) == "the"


def test_keyboard_neighbours_are_those_of_a_qwerty_keyboard():
    neighbours = tables.keyboard_neighbours()
    assert set(neighbours["g"]) == set("tyfhvb")
    assert set(neighbours["q"]) == set("12wa")
    assert set(neighbours["m"]) == set("jkn")
    assert set(neighbours["s"]) == set("weadzx")
    assert set(neighbours["5"]) == set("46rt")


def test_keyboard_typo_changes_one_key_to_a_neighbour_and_keeps_case():
    for seed in range(30):
        typed = perturb.keyboard_typo("Hello", 1.0, random.Random(seed))
        diffs = [i for i, (a, b) in enumerate(zip("Hello", typed, strict=True)) if a != b]
        assert len(diffs) == 1
        i = diffs[0]
        assert typed[i].lower() in tables.keyboard_neighbours()["Hello"[i].lower()]
        assert typed[i].isupper() == "Hello"[i].isupper()
    assert perturb.keyboard_typo("çğü", 1.0, rng()) == "çğü"  # no QWERTY key in the word


def test_natural_typo_uses_the_list_and_keeps_case():
    assert perturb.natural_typo("receive", 1.0, rng()) == "recieve"
    assert perturb.natural_typo("Receive", 1.0, rng()) == "Recieve"
    assert perturb.natural_typo("RECEIVE", 1.0, rng()) == "RECIEVE"
    assert perturb.natural_typo("merhaba", 1.0, rng()) == "merhaba"  # not listed


def test_phonetic_word_table_and_spelling_rules():
    assert perturb.phonetic("night", 1.0, rng()) == "nite"
    assert perturb.phonetic("You", 1.0, rng()) in ("U", "Yu")
    assert perturb.phonetic("phone", 1.0, rng()) == "fone"
    assert perturb.phonetic("Phillip", 1.0, rng()) == "Filip"  # ph -> f, ll -> l
    assert perturb.phonetic("quick", 1.0, rng()) == "kwik"  # qu -> kw, ck -> k
    assert perturb.phonetic("city", 1.0, rng()) == "sitie"  # c before i -> s, final y -> ie
    assert perturb.phonetic("box", 1.0, rng()) == "boks"
    for word in ("night", "phone", "Phillip", "quick"):
        assert perturb.phonetic(word, 0.0, rng()) == word


def test_intrude_inserts_one_punctuation_character_into_gaps():
    attacked = perturb.intrude("abcd", 1.0, rng())
    assert len(attacked) == 7 and attacked[::2] == "abcd"
    intruder = attacked[1]
    assert intruder in perturb.INTRUDERS and attacked[1::2] == intruder * 3
    assert perturb.intrude("abcd", 0.0, rng()) == "abcd"
    assert perturb.intrude("a", 1.0, rng()) == "a"
    alphabet = "abcdefghijklmnopqrstuvwxyz"
    partly = perturb.intrude(alphabet, 0.5, rng())  # some of the 25 gaps
    assert "".join(c for c in partly if c.isalpha()) == alphabet
    assert 0 < len(partly) - 26 < 25 and len(set(partly) - set(alphabet)) == 1


def test_confusable_replaces_by_look_alikes():
    table = tables.confusables()
    attacked = perturb.confusable("Paper", 1.0, rng())
    assert len(attacked) == len("Paper")
    for original, new in zip("Paper", attacked, strict=True):
        assert new in table[original] and new != original
    assert perturb.confusable("Paper", 0.0, rng()) == "Paper"
    assert perturb.confusable("ğ", 1.0, rng()) == "ğ"  # no look-alike listed


def test_split_word_inserts_one_inner_space():
    for seed in range(10):
        split = perturb.split_word("word", 1.0, random.Random(seed))
        assert split.count(" ") == 1 and split.replace(" ", "") == "word" and split.strip() == split
    assert perturb.split_word("a", 1.0, rng()) == "a"


def test_shipped_tables_are_well_formed():
    for key, typos in tables.natural_typos().items():
        assert key == key.lower() and typos and all(t != key and " " not in t for t in typos)
    for key, spellings in tables.phonetic_words().items():
        assert key == key.lower() and spellings and all(s != key for s in spellings)
    assert len(tables.phonetic_rules()) >= 10


def test_confusables_are_other_code_points_unicode_lists():
    table = tables.confusables()
    # Look-alikes that Unicode's confusables.txt maps onto these letters (Cyrillic and Greek).
    assert "\u0430" in table["a"] and "\u0435" in table["e"] and "\u0440" in table["p"]
    assert {"\u03bf", "\u043e"} <= set(table["o"]) and "\u0441" in table["c"]
    for base, alikes in table.items():
        assert base.isascii() and base.isalnum()
        for char in alikes:
            assert len(char) == 1 and char != base and not char.isascii()
            assert unicodedata.category(char)[0] not in "MZC"


def test_confusables_look_alike_to_the_renderer():
    """Drawn by the default renderer, each look-alike is nearly identical to its base character or closer to it
    than any other ASCII letter or digit is (the table's selection rule)."""
    pytest.importorskip("pangocairocffi")
    import numpy as np

    from pixel.render.pangocairo import PangoCairoTextRenderer

    renderer = PangoCairoTextRenderer(max_seq_length=8)

    def picture(char: str) -> np.ndarray:
        encoding = renderer.render_text(char)
        assert not encoding.unrenderable_chars, char
        return encoding.pixel_values[:, :32].astype(np.float64) / 255.0

    bases = {c: picture(c) for c in "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"}
    for base, alikes in tables.confusables().items():
        nearest_other = min(np.abs(bases[base] - other).mean() for key, other in bases.items() if key != base)
        for char in alikes:
            distance = np.abs(bases[base] - picture(char)).mean()
            assert distance < max(nearest_other, 0.01), (base, char)
