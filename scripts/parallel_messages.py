"""Parallel sentences from the message catalogues installed on a Debian machine (offline, real translations).

Programs translated with gettext ship one catalogue per language (/usr/share/locale/LANG/LC_MESSAGES/
DOMAIN.mo): English messages and their translations by the programs' translation teams. This script keeps
the messages that every language named has translated, that read as plain text (letters, spaces and . , ' ( )
only: no format codes, options or paths) and have 4 to 14 words, sorted by the English text, and writes

    OUT/en.txt, OUT/LANG.txt    line i of each translates line i of en.txt
    OUT/labelled.jsonl          {"text", "lang"}: every line of every file, for `pixel embed --scatter`

    python scripts/parallel_messages.py libc /tmp/libc                 # de es it ru (pixel-tiny's languages)
    python scripts/parallel_messages.py coreutils /tmp/coreutils --languages de,fr

Uses the standard library (gettext reads .mo files) and `pixel.io` only.
"""

from __future__ import annotations

import argparse
import gettext
import json
import re
from pathlib import Path

from pixel.io import write_text

LOCALE = Path("/usr/share/locale")
PLAIN = re.compile(r"[A-Za-z][A-Za-z ,.'()]+")
PLAIN_TRANSLATION = re.compile(r"[^%$\\\n\t<>{}]+")


def catalogue(language: str, domain: str) -> dict[str, str]:
    path = LOCALE / language / "LC_MESSAGES" / f"{domain}.mo"
    if not path.is_file():
        raise SystemExit(f"{path}: no such catalogue (is the package of {domain} installed with its translations?)")
    with path.open("rb") as stream:
        messages = gettext.GNUTranslations(stream)._catalog  # msgid -> msgstr; plural forms are tuple keys
    return {key: value for key, value in messages.items() if isinstance(key, str) and key}


def parallel(domain: str, languages: list[str]) -> list[tuple[str, ...]]:
    """(English, translation per language) of the plain messages every language translated."""
    catalogues = [catalogue(language, domain) for language in languages]
    rows = []
    for english in sorted(catalogues[0]):
        translations = [messages.get(english, "").strip() for messages in catalogues]
        if (PLAIN.fullmatch(english) and 4 <= len(english.split()) <= 14
                and all(t and t != english and PLAIN_TRANSLATION.fullmatch(t) for t in translations)):
            rows.append((english, *translations))
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("domain", help="catalogue name, e.g. libc, coreutils, dpkg")
    parser.add_argument("output", type=Path)
    parser.add_argument("--languages", default="de,es,it,ru", help="comma-separated (default de,es,it,ru)")
    args = parser.parse_args()
    languages = args.languages.split(",")
    rows = parallel(args.domain, languages)
    if not rows:
        raise SystemExit(f"no message of {args.domain} is translated into all of {', '.join(languages)}")
    records = []
    for column, language in enumerate(["en", *languages]):
        lines = [row[column] for row in rows]
        write_text(args.output / f"{language}.txt", "\n".join(lines) + "\n")
        records += [json.dumps({"text": line, "lang": language}, ensure_ascii=False) for line in lines]
    write_text(args.output / "labelled.jsonl", "\n".join(records) + "\n")
    print(f"{len(rows)} parallel messages of {args.domain} in en, {', '.join(languages)} -> {args.output}")


if __name__ == "__main__":
    main()
