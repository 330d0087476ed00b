"""pixel.io: complete new file or folder or the old one, the usual modes, no temporaries left behind."""

import json
import os
import stat

import pytest

from pixel.io import atomic_folder, atomic_path, copy_file, write_json, write_text


def plain_mode(full: int) -> int:
    umask = os.umask(0)
    os.umask(umask)
    return full & ~umask


def test_success_replaces_the_file_with_a_plain_mode(tmp_path):
    target = tmp_path / "a.txt"
    target.write_text("old")
    with atomic_path(target) as temporary:
        assert temporary.parent == tmp_path and temporary != target
        temporary.write_text("new")
        assert target.read_text() == "old"  # untouched until the block ends
    assert target.read_text() == "new"
    assert stat.S_IMODE(target.stat().st_mode) == plain_mode(0o666)  # not mkstemp's 0600
    assert [p.name for p in tmp_path.iterdir()] == ["a.txt"]


def test_failure_keeps_the_old_file_and_leaves_no_temporary(tmp_path):
    target = tmp_path / "a.txt"
    target.write_text("old")
    with pytest.raises(RuntimeError), atomic_path(target) as temporary:
        temporary.write_text("half")
        raise RuntimeError("killed mid-write")
    assert target.read_text() == "old"
    assert [p.name for p in tmp_path.iterdir()] == ["a.txt"]


def test_write_text_json_and_copy_create_the_folder_and_replace_whole_files(tmp_path):
    text = write_text(tmp_path / "new" / "a.txt", "héllo\n")
    assert text.read_text(encoding="utf-8") == "héllo\n"
    data = write_json(tmp_path / "new" / "b.json", {"z": 1, "a": [1, 2]})
    assert data.read_text() == '{\n  "a": [\n    1,\n    2\n  ],\n  "z": 1\n}\n'
    assert json.loads(data.read_text()) == {"a": [1, 2], "z": 1}
    copy = copy_file(text, tmp_path / "other" / "c.txt")
    assert copy.read_bytes() == text.read_bytes()
    write_text(text, "second")
    assert text.read_text() == "second"
    assert sorted(p.name for p in (tmp_path / "new").iterdir()) == ["a.txt", "b.json"]


def test_unserialisable_json_keeps_the_old_file(tmp_path):
    target = write_json(tmp_path / "a.json", {"ok": True})
    with pytest.raises(TypeError):
        write_json(target, {"bad": object()})
    assert json.loads(target.read_text()) == {"ok": True}
    assert [p.name for p in tmp_path.iterdir()] == ["a.json"]


def test_atomic_folder_appears_complete_and_replaces_the_old_one(tmp_path):
    target = tmp_path / "model"
    with atomic_folder(target) as folder:
        assert folder.parent == tmp_path and folder.name.startswith(".tmp-model-")
        (folder / "weights").write_text("1")
        assert not target.exists()  # nothing at the target until the block ends
    assert [p.name for p in target.iterdir()] == ["weights"]
    assert stat.S_IMODE(target.stat().st_mode) == plain_mode(0o777)  # not mkdtemp's 0700
    with atomic_folder(target) as folder:
        (folder / "weights").write_text("2")
        (folder / "extra").write_text("x")
        assert (target / "weights").read_text() == "1"
    assert sorted(p.name for p in target.iterdir()) == ["extra", "weights"]
    assert (target / "weights").read_text() == "2"
    assert [p.name for p in tmp_path.iterdir()] == ["model"]


def test_atomic_folder_failure_keeps_the_old_folder_and_leaves_no_temporary(tmp_path):
    target = tmp_path / "model"
    target.mkdir()
    (target / "weights").write_text("old")
    with pytest.raises(RuntimeError), atomic_folder(target) as folder:
        (folder / "weights").write_text("half")
        raise RuntimeError("killed mid-save")
    assert (target / "weights").read_text() == "old"
    assert [p.name for p in tmp_path.iterdir()] == ["model"]
