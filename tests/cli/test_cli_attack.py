"""`pixel attack`: the attacked copy, what it prints, and clear errors for bad requests."""

from __future__ import annotations

from pathlib import Path

import pytest

from pixel.cli.main import main
from pixel.data.tasks.conllu import read_conllu
from pixel.data.tasks.qa import read_squad

TASK_DATA = Path(__file__).resolve().parents[1] / "data" / "tasks"


def test_attack_writes_the_copy_and_says_what_it_did(tmp_path, capsys):
    output = tmp_path / "copy.conllu"
    assert main(["attack", "inner-swap", "--data", str(TASK_DATA / "tiny.conllu"), "--severity", "100",
                 "--output", str(output), "--seed", "3"]) == 0
    printed = capsys.readouterr().out
    assert "inner-swap at 100% (seed 3)" in printed and "3 examples" in printed and "(8 words)" in printed
    assert printed.strip().endswith(f"written to {output}")
    sentences = read_conllu(output)
    assert [s.upos for s in sentences] == [s.upos for s in read_conllu(TASK_DATA / "tiny.conllu")]
    # "sleeps" and "Ducks" have 4+ letters and an inner part with two orders: they change
    assert sentences[0].words[2] != "sleeps" and sentences[2].words[0] != "Ducks"


def test_default_output_name_and_qa_counts(tmp_path, capsys):
    data = tmp_path / "squad.json"
    data.write_bytes((TASK_DATA / "tiny_squad_v1.json").read_bytes())
    assert main(["attack", "truncate", "--data", str(data), "--severity", "0.5"]) == 0
    copy = tmp_path / "squad.truncate50.json"
    assert copy.is_file() and read_squad(copy).examples
    assert "answers removed" in capsys.readouterr().out


def test_classification_columns(tmp_path, capsys):
    output = tmp_path / "pairs.csv"
    assert main(["attack", "disemvowel", "--data", str(TASK_DATA / "pairs.csv"), "--severity", "1",
                 "--text_column", "sentence1", "--pair_column", "sentence2", "--output", str(output)]) == 0
    lines = output.read_text().splitlines()
    assert lines[0] == "sentence1,sentence2,label" and lines[2] == "Th ct st .,A dg rn .,not_equivalent"  # "A": under 3 letters


@pytest.mark.parametrize("arguments, message", [
    (["typo", "--severity", "0.5"], "unknown attack 'typo'; known attacks: phonetic, full-swap, inner-swap, "
                                    "disemvowel, truncate, keyboard-typo, natural-typo, intrude, segmentation, confusable"),
    (["truncate", "--severity", "150"], "severity '150' is outside [0, 1] (or 0-100 as a percentage)"),
    (["truncate", "--severity", "-0.2"], "severity '-0.2' is outside [0, 1]"),
    (["truncate", "--severity", "lots"], "severity 'lots' is not a number"),
])
def test_bad_requests(arguments, message, tmp_path, capsys):
    kind, *rest = arguments
    assert main(["attack", kind, "--data", str(TASK_DATA / "tiny.conllu"), "--output", str(tmp_path / "x.conllu"),
                 *rest]) == 1
    assert message in capsys.readouterr().err
    assert not (tmp_path / "x.conllu").exists()


def test_missing_input(tmp_path, capsys):
    assert main(["attack", "truncate", "--data", str(tmp_path / "none.conllu"), "--severity", "0.2"]) == 1
    assert "none.conllu: no such file" in capsys.readouterr().err
