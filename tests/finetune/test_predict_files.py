"""`pixel predict` over files and stdin, `pixel evaluate`: streamed, in order, with a progress bar on a terminal
and the throughput at the end (issue 13 item 8; issue 12 item 5)."""

from __future__ import annotations

import io
import json
import re

import pytest

from pixel.cli.main import main

from .conftest import TASK_DATA

SENTENCES = ["the cat sleeps .", "a dog runs", "pixels are words"]


def stdin(monkeypatch, data: bytes) -> None:
    monkeypatch.setattr("sys.stdin", io.TextIOWrapper(io.BytesIO(data), encoding="utf-8"))


def test_file_jsonl_and_stdin_give_what_text_arguments_give(pos_model, tmp_path, capsys, monkeypatch):
    # `echo "the cat" | pixel predict` said "nothing to predict", and `-` was taken as the word "-".
    assert main(["predict", "--model", str(pos_model), "--quiet", *SENTENCES]) == 0
    expected = capsys.readouterr().out
    assert len(expected.splitlines()) == 3
    lines = tmp_path / "inputs.txt"
    lines.write_text(SENTENCES[0] + "\n\n" + "\n".join(SENTENCES[1:]) + "\n")  # blank lines are skipped
    jsonl = tmp_path / "inputs.jsonl"
    jsonl.write_text("".join(json.dumps({"text": s}) + "\n" for s in SENTENCES[:2]) +
                     json.dumps({"words": SENTENCES[2].split()}) + "\n")
    for args in (["--file", str(lines)], ["--file", str(jsonl)]):
        assert main(["predict", "--model", str(pos_model), "--quiet", *args]) == 0
        assert capsys.readouterr().out == expected, args
    for args in ([], ["-"], ["--file", "-"]):
        stdin(monkeypatch, "\n".join(SENTENCES).encode())
        assert main(["predict", "--model", str(pos_model), "--quiet", *args]) == 0
        assert capsys.readouterr().out == expected, args


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b'{"text": "fine"}\n{"txt": "oops"}\n', r"inputs.jsonl:2: expected a JSON object with a \"text\" string"),
        (b'{"text": "fine"}\n{not json\n', r"inputs.jsonl:2: invalid JSON line"),
        (b"caf\xe9\n", r"inputs.jsonl is not UTF-8 text \(byte 0xe9 at offset 3\)"),
        (b"\n\n", r"nothing to predict: .*inputs.jsonl holds no input"),
    ],
)
def test_bad_input_files_name_the_line(pos_model, tmp_path, capsys, content, message):
    path = tmp_path / "inputs.jsonl"
    path.write_bytes(content)
    assert main(["predict", "--model", str(pos_model), "--file", str(path)]) == 1
    assert re.search(message, capsys.readouterr().err)


class Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_progress_on_a_terminal_throughput_at_the_end_quiet_otherwise(pos_model, tmp_path, capsys, monkeypatch):
    path = tmp_path / "many.txt"
    path.write_text("\n".join(SENTENCES * 20) + "\n")
    command = ["predict", "--model", str(pos_model), "--file", str(path), "--batch_size", "8", "--num-workers", "0"]
    assert main(command) == 0  # stderr is no terminal here: no bar, one throughput line
    captured = capsys.readouterr()
    assert len(captured.out.splitlines()) == 60
    assert captured.err.splitlines() == [captured.err.strip()] and "60 inputs, 60 strips in" in captured.err
    assert "strips/s" in captured.err
    assert main([*command, "--quiet"]) == 0
    assert capsys.readouterr().err == ""
    terminal = Terminal()
    monkeypatch.setattr("sys.stderr", terminal)
    assert main(command) == 0
    shown = terminal.getvalue()
    assert "60/60" in shown and "strips/s" in shown and "<00:00" in shown  # tqdm's bar: count, ETA, rate


def test_evaluate_streams_with_workers_and_reports_throughput(pos_model, tmp_path, capsys):
    data = str(TASK_DATA / "tiny.conllu")
    assert main(["evaluate", "--model", str(pos_model), "--data", data, "--num-workers", "0", "--batch_size", "1",
                 "--output", str(tmp_path / "a.jsonl")]) == 0
    serial = capsys.readouterr()
    assert main(["evaluate", "--model", str(pos_model), "--data", data, "--num-workers", "2", "--batch_size", "1",
                 "--output", str(tmp_path / "b.jsonl")]) == 0
    parallel = capsys.readouterr()
    assert serial.out.splitlines()[0] == parallel.out.splitlines()[0]  # the same metrics
    assert (tmp_path / "a.jsonl").read_text() == (tmp_path / "b.jsonl").read_text()  # in the same order
    assert "strips/s" in parallel.err and "inputs" in parallel.err
    assert main(["evaluate", "--model", str(pos_model), "--data", data, "--num-workers", "-1"]) == 1
    assert "--num-workers must be >= 0" in capsys.readouterr().err


def test_predictions_stream_chunk_by_chunk(pos_model):
    from pixel.finetune.base import Inference
    from pixel.finetune.model_folder import load_finetuned

    finetuned = load_finetuned(str(pos_model), device="cpu")
    family = finetuned.family
    examples = family.parse_inputs(SENTENCES * 4, {})
    rendered = []
    features = family.features
    family.features = lambda index, example, *rest: rendered.append(index) or features(index, example, *rest)
    stream = iter(Inference(finetuned.model, family, examples, finetuned.renderer, finetuned.vocabulary, "cpu",
                            batch_size=4, with_targets=False))
    first_example, prediction = next(stream)
    assert first_example is examples[0] and len(prediction["labels"]) == 4
    assert len(rendered) == 4  # one chunk rendered so far, not all 12 inputs
    assert len(list(stream)) == 11
