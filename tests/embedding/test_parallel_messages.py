"""scripts/parallel_messages.py on message catalogues written here: which messages it keeps, line-parallel
files in sorted order."""

from __future__ import annotations

import importlib
import json
import struct
import sys
from pathlib import Path

SCRIPTS = Path(__file__).resolve().parents[2] / "scripts"


def write_mo(path: Path, messages: dict[str, str]) -> None:
    """A GNU .mo file (little-endian, no hash table): header, the two tables of (length, offset), strings."""
    keys = sorted(messages)
    ids = [key.encode() for key in keys]
    strs = [messages[key].encode() for key in keys]
    count, header = len(keys), 28
    data = b""
    table_ids, table_strs = [], []
    start = header + 16 * count
    for text, table in [(t, table_ids) for t in ids] + [(t, table_strs) for t in strs]:
        table.append((len(text), start + len(data)))
        data += text + b"\0"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(struct.pack("<7I", 0x950412DE, 0, count, header, header + 8 * count, 0, 0)
                     + b"".join(struct.pack("<2I", *entry) for entry in table_ids + table_strs) + data)


def test_keeps_plain_messages_every_language_translated(tmp_path, monkeypatch):
    monkeypatch.syspath_prepend(str(SCRIPTS))
    script = importlib.import_module("parallel_messages")
    common = {"": "Content-Type: text/plain; charset=UTF-8\n"}
    write_mo(tmp_path / "locale" / "de" / "LC_MESSAGES" / "demo.mo", {
        **common, "The file was not found": "Die Datei wurde nicht gefunden",
        "Address already in use here": "Die Adresse wird bereits verwendet",
        "Cannot open file %s for reading": "Kann Datei %s nicht lesen",   # a format code: dropped
        "Too short": "Zu kurz",                                            # under 4 words: dropped
        "Only German has this one": "Nur Deutsch hat diese",               # no Russian: dropped
        "Left as it was in English": "Left as it was in English"})         # untranslated: dropped
    write_mo(tmp_path / "locale" / "ru" / "LC_MESSAGES" / "demo.mo", {
        **common, "The file was not found": "Файл не найден", "Address already in use here": "Адрес уже используется",
        "Cannot open file %s for reading": "Не удалось открыть %s", "Too short": "Слишком коротко",
        "Left as it was in English": "Оставлено"})
    monkeypatch.setattr(script, "LOCALE", tmp_path / "locale")
    monkeypatch.setattr(sys, "argv", ["parallel_messages.py", "demo", str(tmp_path / "out"), "--languages", "de,ru"])
    script.main()
    out = tmp_path / "out"
    assert (out / "en.txt").read_text().splitlines() == ["Address already in use here", "The file was not found"]
    assert (out / "de.txt").read_text().splitlines() == ["Die Adresse wird bereits verwendet",
                                                         "Die Datei wurde nicht gefunden"]
    assert (out / "ru.txt").read_text(encoding="utf-8").splitlines() == ["Адрес уже используется", "Файл не найден"]
    records = [json.loads(line) for line in (out / "labelled.jsonl").read_text(encoding="utf-8").splitlines()]
    assert [r["lang"] for r in records] == ["en", "en", "de", "de", "ru", "ru"]
    assert records[4]["text"] == "Адрес уже используется"
