"""Text sources, bad input policy and the original's packing (spec 1.5)."""

import json

import pytest

from pixel.data.text import (
    InputReport,
    TextSource,
    expand_files,
    iter_file_lines,
    pack_lines,
    split_long_line,
)


def width(text: str) -> int:
    return 10 * len(text)


def test_pack_joins_consecutive_lines_while_the_sum_of_widths_stays_below_the_limit():
    lines = ["aaaa", "bbb", "cc", "dddddd", "e"]  # widths 40, 30, 20, 60, 10
    # 40+30+20 = 90 < 100, +60 -> 150 would not be below: new example; 60+10 = 70.
    assert list(pack_lines(lines, width, 100)) == ["aaaa bbb cc", "dddddd e"]
    # "below", as the original: reaching the limit exactly starts a new example
    assert list(pack_lines(["aaaaa", "bbbbb"], width, 100)) == ["aaaaa", "bbbbb"]


def test_too_long_line_is_split_at_word_boundaries_not_truncated():
    report = InputReport()
    line = "one two three four five six seven"
    packed = list(pack_lines([line], width, 100, report=report))
    assert report.split_lines == 1
    assert " ".join(packed) == line  # nothing lost
    assert all(width(piece) < 100 for piece in packed)
    assert packed[0] == "one two"  # greedy: "one two three" (130) does not fit


def test_a_single_word_wider_than_the_strip_is_split_inside_the_word():
    pieces = split_long_line("x" * 25, width, 100)
    assert pieces == ["x" * 9, "x" * 9, "x" * 7]


def test_min_width_filter_drops_and_counts_short_examples():
    report = InputReport()
    # 60 + 70 is not below 100 -> two examples; "bbbbbbb c" = 70 + 10 = 80 >= 50 is kept
    assert list(pack_lines(["aaaaaa", "bbbbbbb", "c"], width, 100, min_width=50, report=report)) == [
        "aaaaaa", "bbbbbbb c"]
    assert report.short_examples == 0
    assert list(pack_lines(["aaaaaa", "bb"], width, 70, min_width=50, report=report)) == ["aaaaaa"]
    assert report.short_examples == 1


def test_non_utf8_lines_are_skipped_and_counted_with_file_and_line(tmp_path):
    path = tmp_path / "mixed.txt"
    path.write_bytes(b"good line\nbad \xff\xfe line\n\nanother good\n")
    report = InputReport()
    assert list(iter_file_lines([path], report=report)) == ["good line", "another good"]
    assert report.skipped_lines == 1
    assert report.problems[0].startswith(f"{path}:2: not valid UTF-8")


def test_non_utf8_is_an_error_naming_file_and_line_when_asked(tmp_path):
    path = tmp_path / "bad.txt"
    path.write_bytes(b"ok\n\xc3\x28\n")
    with pytest.raises(ValueError, match=r"bad\.txt:2: not valid UTF-8"):
        list(iter_file_lines([path], on_bad_input="error"))


def test_empty_files_are_reported_and_an_empty_corpus_is_a_clear_error(tmp_path):
    from toy import StubMasker, StubRenderer

    from pixel.data.pretraining import PretrainingDataset

    (tmp_path / "empty.txt").write_text("")
    (tmp_path / "blank.txt").write_text("\n  \n")
    source = TextSource(files=[str(tmp_path / "*.txt")])
    dataset = PretrainingDataset(source, StubRenderer(16), 2, masker=StubMasker(16))
    with pytest.raises(ValueError, match="empty corpus"):
        next(iter(dataset))
    assert source.report.empty_files == [str(tmp_path / "empty.txt")]


def test_jsonl_field_and_bad_records(tmp_path):
    path = tmp_path / "c.jsonl"
    path.write_text("\n".join([json.dumps({"body": "first text"}), "{not json", json.dumps({"other": 1}),
                               json.dumps({"body": "second\ntext"})]) + "\n")
    source = TextSource(files=[str(path)], text_field="body")
    assert list(source) == ["first text", "second", "text"]
    assert source.report.skipped_lines == 2
    assert "no field 'body'" in source.report.problems[1]
    with pytest.raises(ValueError, match=r"c\.jsonl:2"):
        list(TextSource(files=[str(path)], text_field="body", on_bad_input="error"))


def test_globs_and_missing_files(tmp_path):
    for name in ("b.txt", "a.txt"):
        (tmp_path / name).write_text(name)
    assert [p.name for p in expand_files(str(tmp_path / "*.txt"))] == ["a.txt", "b.txt"]
    with pytest.raises(FileNotFoundError, match="no text file matches"):
        expand_files(str(tmp_path / "*.parquet"))


def test_parquet_without_pyarrow_names_what_to_install(tmp_path):
    try:
        import pyarrow  # noqa: F401
    except ImportError:
        path = tmp_path / "c.parquet"
        path.write_bytes(b"PAR1")
        with pytest.raises(RuntimeError, match="pip install pyarrow"):
            list(TextSource(files=[str(path)]))
    else:
        pytest.skip("pyarrow is installed")


def test_python_iterables(tmp_path):
    assert list(TextSource(texts=["a b", "c\r\nd"])) == ["a b", "c", "d"]
    assert list(TextSource(texts=lambda: iter(["x"]))) == ["x"]
    with pytest.raises(TypeError, match="one-shot iterator"):
        TextSource(texts=iter(["x"]))
    with pytest.raises(ValueError, match="exactly one"):
        TextSource()


def test_skipped_lines_are_reported_after_the_first_pass(tmp_path, capsys):
    from toy import StubMasker, StubRenderer

    from pixel.data.pretraining import PretrainingDataset

    path = tmp_path / "c.txt"
    path.write_bytes(b"a good line of text here\n\xff\xfe\nanother good line of text\n")
    dataset = PretrainingDataset(TextSource(files=[str(path)]), StubRenderer(16), 1, masker=StubMasker(16),
                                 repeat=False)
    assert len(list(dataset)) == 1
    assert "1 bad lines skipped" in capsys.readouterr().err
