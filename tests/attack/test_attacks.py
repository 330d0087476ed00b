"""Attacker rules (spec 3.5): which words each attack touches, severity 0, seeds, punctuation, answer spans."""

from __future__ import annotations

import pytest

from pixel.attack import ATTACKS, Attacker, attack_names, parse_severity
from pixel.attack.attacks import parse_severities

SENTENCE = ["The", "people", "receive", "photographs", "of", "a", "lazy", "fox", "."]
# At severity 1, which words of SENTENCE each attack changes (worked out by hand from the rules).
CHANGED_AT_1 = {
    "phonetic": "FTTTTFTTF",  # people, of: word table; receive: c -> s; ph -> f; lazy: y -> ie; fox: x -> ks
    "full-swap": "TTTTFFTTF",  # 3+ characters
    "inner-swap": "FTTTFFTFF",  # 4+ characters
    "disemvowel": "TTTTFFTTF",  # 3+ characters with a consonant
    "truncate": "FTTTFFTFF",  # 4+ characters
    "keyboard-typo": "TTTTTTTTF",  # every word (all are QWERTY letters)
    "natural-typo": "TTTFTTFFF",  # the, people, receive, of, a are listed
    "intrude": "TTTTTFTTF",  # 2+ characters
    "segmentation": "TTTTTFTTF",  # word-aligned: a space inside words of 2+ characters
    "confusable": "TTTTTTTTF",  # every word has a letter with look-alikes
}
TEXT = ("The quick brown fox, Phillip, didn't jump over 12 lazy dogs because you were right there tonight; "
        "people receive photographs of the city.")


def test_ten_attacks_in_the_original_order():
    assert list(ATTACKS) == ["phonetic", "full-swap", "inner-swap", "disemvowel", "truncate", "keyboard-typo",
                             "natural-typo", "intrude", "segmentation", "confusable"]
    assert set(CHANGED_AT_1) == set(ATTACKS)


@pytest.mark.parametrize("name", sorted(ATTACKS))
def test_severity_one_changes_the_words_the_attack_applies_to(name):
    attacked = Attacker(name, 1.0, seed=3).words(SENTENCE)
    assert len(attacked) == len(SENTENCE)
    changed = "".join("T" if a != w else "F" for a, w in zip(attacked, SENTENCE, strict=True))
    assert changed == CHANGED_AT_1[name], attacked


@pytest.mark.parametrize("name", sorted(ATTACKS))
def test_severity_zero_changes_nothing(name):
    attacker = Attacker(name, 0.0, seed=1)
    assert attacker.words(SENTENCE) == SENTENCE
    assert attacker.text(TEXT).text == TEXT
    assert attacker.words_changed == 0 and attacker.spaces_removed == 0


@pytest.mark.parametrize("name", sorted(ATTACKS))
def test_same_seed_same_output_other_seed_other_output(name):
    def run(seed: int) -> tuple[str, list[str]]:
        attacker = Attacker(name, 0.5, seed)
        return attacker.text(TEXT).text, attacker.words(TEXT.split())

    assert run(7) == run(7)
    assert run(7) != run(8)


@pytest.mark.parametrize("name", sorted(ATTACKS))
def test_word_aligned_attacks_keep_the_word_count_and_punctuation(name):
    words = ["(hello),", "--", "world!", "42", "x"]
    attacked = Attacker(name, 1.0, seed=0).words(words)
    assert len(attacked) == len(words)
    assert attacked[0].startswith("(") and attacked[0].endswith("),") and attacked[1] == "--"
    assert attacked[2].endswith("!")


def test_word_level_attacks_touch_about_severity_of_the_words():
    words = ["word"] * 2000
    changed = sum(a != w for a, w in zip(Attacker("truncate", 0.2, seed=0).words(words), words, strict=True))
    assert 0.17 < changed / len(words) < 0.23


def test_character_level_attacks_touch_every_word_at_the_severity_rate():
    word = "abcdefghij" * 10  # 99 gaps
    attacked = Attacker("intrude", 0.2, seed=0).words([word] * 50)
    intruders = sum(len(a) - len(word) for a in attacked)
    assert all(a != word for a in attacked)  # every word attacked
    assert 0.17 < intruders / (99 * 50) < 0.23


def test_segmentation_of_running_text_joins_words():
    assert Attacker("segmentation", 1.0).text("a b  c").text == "abc"
    assert Attacker("segmentation", 1.0).text(" a b ").text == " ab "  # outer spaces kept
    assert Attacker("segmentation", 1.0).words(["ab", "c"]) != ["ab", "c"]  # word-aligned: split inside
    attacker = Attacker("segmentation", 0.5, seed=0)
    joined = attacker.text("w " * 999 + "w").text
    assert joined.replace(" ", "") == "w" * 1000 and attacker.spaces_removed == 999 - joined.count(" ")
    assert 0.45 < attacker.spaces_removed / 999 < 0.55


def test_answer_spans_move_with_the_attacked_text():
    attacked = Attacker("truncate", 1.0).text("Paris is lovely.")
    assert attacked.text == "Pari is lovel."
    assert attacked.relocate(0, 5) == (0, 4)  # "Paris" -> "Pari"
    assert attacked.relocate(9, 15) == (8, 13)  # "lovely" -> "lovel"
    assert attacked.relocate(6, 8) == (5, 7)  # "is" unchanged
    assert attacked.relocate(7, 8) == (6, 7)  # inside an unchanged word: exact
    assert attacked.relocate(1, 5) is None  # starts inside a changed word
    assert attacked.relocate(0, 16) == (0, 14)  # the whole text
    joined = Attacker("segmentation", 1.0).text("New York City")
    assert joined.text == "NewYorkCity" and joined.relocate(4, 8) == (3, 7)


def test_severity_parsing():
    assert parse_severity("0.2") == 0.2 and parse_severity("20") == 0.2 and parse_severity(50) == 0.5
    assert parse_severity("1") == 1.0 and parse_severity("100") == 1.0 and parse_severity("0") == 0.0
    assert parse_severities("20,50,80") == [0.2, 0.5, 0.8]
    for bad in ("-0.1", "101", "nan", "inf", "high"):
        with pytest.raises(ValueError, match="severity"):
            parse_severity(bad)
    with pytest.raises(ValueError, match=r"outside \[0, 1\]"):
        Attacker("truncate", 1.5)


def test_attack_names():
    assert attack_names("all") == list(ATTACKS)
    assert attack_names("truncate, confusable") == ["truncate", "confusable"]
    with pytest.raises(ValueError, match="unknown attack 'typo'; known attacks: phonetic, full-swap, .*confusable"):
        attack_names("truncate,typo")
    with pytest.raises(ValueError, match="known attacks: phonetic"):
        Attacker("visual", 0.5)  # offered by the original's CLI, never implemented
