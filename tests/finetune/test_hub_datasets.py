"""`pixel finetune --dataset`: task data from a Hugging Face `datasets` dataset, read through a fake `datasets`
module (the package is optional and the tests run offline). The fake splits hold, written out by hand in
the Hub layouts (ClassLabel ids, universal_dependencies rows with multiword tokens), the same data as the
fixture files of tests/data/tasks; each task family must read the same examples from both.
"""

from __future__ import annotations

import copy
import json
import sys
import types
from dataclasses import asdict

import pytest

from pixel.cli.main import main
from pixel.data.tasks.hub import HubSplit
from pixel.data.tasks.reading import DataFormatError
from pixel.finetune.config import ClassificationConfig, NerConfig, ParsingConfig, PosConfig, QAConfig
from pixel.finetune.model_folder import make_family

from .conftest import CONFIGS, TASK_DATA


class ClassLabel:
    def __init__(self, names: list[str]) -> None:
        self.names = names


class Sequence:
    def __init__(self, feature: object) -> None:
        self.feature = feature


class Value:
    def __init__(self, dtype: str) -> None:
        self.dtype = dtype


class FakeDataset:
    """What the readers use of a ``datasets.Dataset``: ``features`` and iteration over row dicts."""

    def __init__(self, features: dict[str, object], rows: list[dict]) -> None:
        self.features, self._rows = features, rows

    def __iter__(self):
        return iter(copy.deepcopy(self._rows))


def install_fake_datasets(monkeypatch, splits: dict[tuple[str, str | None, str], FakeDataset]) -> list[tuple]:
    """Put a `datasets` module whose load_dataset serves ``splits`` into sys.modules; returns the calls."""
    calls: list[tuple] = []

    def load_dataset(name, config=None, split=None, **kwargs):
        calls.append((name, config, split))
        if (name, config, split) not in splits:
            raise ValueError(f'Unknown split "{split}". Should be one of {sorted(s for _, _, s in splits)}.')
        return splits[(name, config, split)]

    module = types.ModuleType("datasets")
    module.load_dataset = load_dataset  # type: ignore[attr-defined]
    monkeypatch.setitem(sys.modules, "datasets", module)
    return calls


TEXT = Value("string")

# tests/data/tasks/sst2.tsv as glue/sst2 holds it: label is a ClassLabel, read as its id "0"/"1" (the file's)
SST2 = FakeDataset(
    {"sentence": TEXT, "label": ClassLabel(["negative", "positive"]), "idx": Value("int32")},
    [{"sentence": "it 's a charming and often affecting journey .", "label": 1, "idx": 0},
     {"sentence": "unflinchingly bleak and desperate", "label": 0, "idx": 1},
     {"sentence": "the film does n't work ( at all ) .", "label": 0, "idx": 2}],
)
# tests/data/tasks/pairs.csv with its labels as strings
PAIRS = FakeDataset(
    {"sentence1": TEXT, "sentence2": TEXT, "label": TEXT},
    [{"sentence1": 'He said, "hello" .', "sentence2": "He greeted them .", "label": "equivalent"},
     {"sentence1": "The cat sat .", "sentence2": "A dog ran .", "label": "not_equivalent"},
     {"sentence1": "The cat sat .", "sentence2": "The cat was sitting .", "label": "equivalent"}],
)
# tests/data/tasks/stsb.jsonl (regression scores as floats)
STSB = FakeDataset(
    {"sentence1": TEXT, "sentence2": TEXT, "score": Value("float32")},
    [{"sentence1": "A man is playing a guitar.", "sentence2": "A man plays the guitar.", "score": 4.8},
     {"sentence1": "A woman is slicing onions.", "sentence2": "A cat sleeps.", "score": 0.2},
     {"sentence1": "Two dogs run.", "sentence2": "Dogs are running.", "score": 3.5}],
)
# tests/data/tasks/tiny_ner.txt in the conll2003 layout
NER_NAMES = ["O", "B-PER", "I-PER", "B-ORG", "I-ORG", "B-LOC", "I-LOC", "B-MISC", "I-MISC"]
NER = FakeDataset(
    {"id": TEXT, "tokens": Sequence(TEXT), "ner_tags": Sequence(ClassLabel(NER_NAMES))},
    [{"id": "0", "tokens": ["EU", "rejects", "German", "call", "."], "ner_tags": [3, 0, 7, 0, 0]},
     {"id": "1", "tokens": ["Peter", "Blackburn"], "ner_tags": [1, 2]},
     {"id": "2", "tokens": ["John", "lives", "in", "New", "York"], "ner_tags": [1, 0, 0, 5, 6]}],
)
# tests/data/tasks/tiny.conllu in the universal_dependencies layout: upos a ClassLabel (with "_" for the
# multiword token), head strings ("None" for the multiword token "Don't"), full deprels.
UPOS_NAMES = ["NOUN", "PUNCT", "ADP", "NUM", "SYM", "SCONJ", "ADJ", "PART", "DET", "CCONJ", "PROPN", "PRON",
              "X", "_", "ADV", "INTJ", "VERB", "AUX"]
U = {name: i for i, name in enumerate(UPOS_NAMES)}
UD = FakeDataset(
    {"idx": TEXT, "text": TEXT, "tokens": Sequence(TEXT), "upos": Sequence(ClassLabel(UPOS_NAMES)),
     "head": Sequence(TEXT), "deprel": Sequence(TEXT)},
    [{"idx": "s1", "text": "The cat sleeps.", "tokens": ["The", "cat", "sleeps", "."],
      "upos": [U["DET"], U["NOUN"], U["VERB"], U["PUNCT"]], "head": ["2", "3", "0", "3"],
      "deprel": ["det", "nsubj", "root", "punct"]},
     {"idx": "s2", "text": "Don't go.", "tokens": ["Don't", "Do", "n't", "go", "."],
      "upos": [U["_"], U["AUX"], U["PART"], U["VERB"], U["PUNCT"]], "head": ["None", "3", "3", "0", "3"],
      "deprel": ["_", "aux", "advmod", "root", "punct"]},
     {"idx": "s3", "text": "Ducks swim", "tokens": ["Ducks", "swim"], "upos": [U["NOUN"], U["VERB"]],
      "head": ["2", "0"], "deprel": ["nsubj:pass", "root"]}],
)
# tests/data/tasks/tiny_qa_flat.jsonl in the squad layout
QA_CONTEXT = ("Paris is the capital and most populous city of France, with an estimated population of two "
              "million.")
SQUAD = FakeDataset(
    {"id": TEXT, "title": TEXT, "context": TEXT, "question": TEXT, "answers": Sequence(TEXT)},
    [{"id": "flat-0", "title": "Paris", "question": "What is the capital of France?", "context": QA_CONTEXT,
      "answers": {"text": ["Paris"], "answer_start": [0]}},
     {"id": "flat-1", "title": "Paris", "question": "How many people live in Paris?", "context": QA_CONTEXT,
      "answers": {"text": ["two million"], "answer_start": [87]}}],
)

CASES = {
    # name: (config, extra config keys, file of the same data, fake dataset)
    "classification": (ClassificationConfig, {}, "sst2.tsv", SST2),
    "classification-pair": (ClassificationConfig, {"text_column": "sentence1", "pair_column": "sentence2"},
                            "pairs.csv", PAIRS),
    "regression": (ClassificationConfig, {"text_column": "sentence1", "pair_column": "sentence2",
                                          "label_column": "score", "regression": True}, "stsb.jsonl", STSB),
    "pos": (PosConfig, {}, "tiny.conllu", UD),
    "ner": (NerConfig, {}, "tiny_ner.txt", NER),
    "parsing": (ParsingConfig, {}, "tiny.conllu", UD),
    "qa": (QAConfig, {}, "tiny_qa_flat.jsonl", SQUAD),
}


def _family_and_split(case: str, monkeypatch):
    config_class, extra, _, dataset = CASES[case]
    install_fake_datasets(monkeypatch, {("fake", "cfg", "train"): dataset})
    config = config_class(model="m", dataset="fake", dataset_config="cfg", **extra)
    return make_family(config.task, config.task_settings()), config.data_source("train")


def _comparable(task: str, example) -> dict:
    record = asdict(example)
    if task == "pos":  # the Hub POS reader reads words, tags and heads; the relations are parsing's
        record.pop("relations")
    if task == "parsing":  # parsing does not use the tags
        record.pop("upos")
    record.pop("sent_id", None)
    return record


@pytest.mark.parametrize("case", sorted(CASES))
def test_dataset_gives_the_same_examples_as_the_file(case, monkeypatch):
    family, source = _family_and_split(case, monkeypatch)
    assert isinstance(source, HubSplit) and (source.name, source.config, source.split) == ("fake", "cfg", "train")
    from_dataset = family.read(source)
    from_file = make_family(family.name, family.settings).read(TASK_DATA / CASES[case][2])
    task = family.name
    assert [_comparable(task, e) for e in from_dataset] == [_comparable(task, e) for e in from_file]


def test_hub_readers_by_hand(monkeypatch):
    """A few values written out, so that the comparison above cannot pass with two equal wrong readers."""
    family, source = _family_and_split("parsing", monkeypatch)
    second = family.read(source)[1]
    assert second.words == ["Do", "n't", "go", "."] and second.heads == [3, 3, 0, 3]
    assert second.relations == ["aux", "advmod", "root", "punct"]
    family, source = _family_and_split("pos", monkeypatch)
    assert family.read(source)[1].upos == ["AUX", "PART", "VERB", "PUNCT"]
    family, source = _family_and_split("ner", monkeypatch)
    assert family.read(source)[2].labels == ["B-PER", "O", "O", "B-LOC", "I-LOC"]
    family, source = _family_and_split("classification", monkeypatch)
    assert [e.label for e in family.read(source)] == ["1", "0", "0"]  # ids as text, not the names


def test_missing_datasets_package_names_the_extra(monkeypatch):
    monkeypatch.setitem(sys.modules, "datasets", None)  # makes `import datasets` raise ImportError
    family, source = make_family("ner", {}), NerConfig(model="m", dataset="conll2003").data_source("train")
    with pytest.raises(RuntimeError, match=r"pip install 'pixel-lm\[datasets\]'"):
        family.read(source)


def test_dataset_errors(monkeypatch):
    no_label = FakeDataset({"sentence": TEXT, "label": ClassLabel(["0", "1"])}, [{"sentence": "a", "label": -1}])
    wrong_columns = FakeDataset({"words": Sequence(TEXT)}, [{"words": ["a"]}])
    ragged = FakeDataset({"tokens": Sequence(TEXT), "ner_tags": Sequence(ClassLabel(NER_NAMES))},
                         [{"tokens": ["a", "b"], "ner_tags": [0]}])
    install_fake_datasets(monkeypatch, {("glue", "sst2", "test"): no_label, ("x", None, "train"): wrong_columns,
                                        ("r", None, "train"): ragged})
    with pytest.raises(DataFormatError, match=r"glue/sst2\[test\]:1: .*-1 = no label"):
        make_family("classification", {}).read(HubSplit("glue", "test", "sst2"))
    with pytest.raises(DataFormatError, match=r"x\[train\]: missing column\(s\) tokens, ner_tags; the dataset has wo"):
        make_family("ner", {}).read(HubSplit("x", "train"))
    with pytest.raises(DataFormatError, match=r"r\[train\]:1: columns differ in length \(tokens 2, ner_tags 1\)"):
        make_family("ner", {}).read(HubSplit("r", "train"))
    with pytest.raises(RuntimeError, match=r"could not load dataset x\[validation\]: ValueError: Unknown split"):
        make_family("ner", {}).read(HubSplit("x", "validation"))


def test_config_choices():
    with pytest.raises(ValueError, match="either --dataset NAME .* or data files"):
        NerConfig(model="m", dataset="conll2003", train="a.txt").validate()
    with pytest.raises(ValueError, match="--train FILE \\(or --dataset NAME\\)"):
        NerConfig(model="m").validate()
    with pytest.raises(ValueError, match="--validation_split with --dataset"):
        NerConfig(model="m", dataset="conll2003", validation_split=None).validate()
    config = NerConfig(model="m", dataset="conll2003", test_split="test")
    config.validate()
    assert config.data_source("test") == HubSplit("conll2003", "test", None, {"tokens_column": "tokens",
                                                                            "tags_column": "ner_tags"})
    assert NerConfig(model="m", train="a.txt").data_source("validation") is None


def test_finetune_from_a_dataset_end_to_end(tiny_pretrained, tmp_path, monkeypatch, capsys):
    """`pixel finetune ner --dataset` reads the three splits; `pixel evaluate` of the file holding the same
    sentences gives the metrics the run computed on the validation split."""
    calls = install_fake_datasets(monkeypatch, {("fake_ner", None, split): NER for split in
                                                ("train", "validation", "test")})
    out = tmp_path / "model"
    command = ["finetune", "ner", "--config", str(CONFIGS / "ner.yaml"), "--smoke", "--model", str(tiny_pretrained),
               "--dataset", "fake_ner", "--test_split", "test", "--output_dir", str(out), "--device", "cpu",
               "--progress", "false"]
    assert main(command) == 0
    assert sorted(set(calls)) == [("fake_ner", None, s) for s in ("test", "train", "validation")]
    results = json.loads((out / "results.json").read_text())
    assert set(results) >= {"validation", "test"}
    capsys.readouterr()
    assert main(["evaluate", "--model", str(out), "--data", str(TASK_DATA / "tiny_ner.txt"), "--device", "cpu",
                 "--precision", "fp32"]) == 0
    printed = json.loads([line for line in capsys.readouterr().out.splitlines() if line.startswith("{")][-1])
    for key in ("precision", "recall", "f1", "accuracy"):
        assert printed[key] == pytest.approx(results["validation"][key], abs=1e-6), key
    assert main(["evaluate", "--model", str(out), "--dataset", "fake_ner", "--split", "validation",
                 "--device", "cpu", "--precision", "fp32"]) == 0
    printed_hub = json.loads([line for line in capsys.readouterr().out.splitlines() if line.startswith("{")][-1])
    assert printed_hub["data"] == "fake_ner[validation]" and (out / "predictions_fake_ner_validation.jsonl").is_file()
    for key in ("precision", "recall", "f1", "accuracy"):
        assert printed_hub[key] == pytest.approx(printed[key], abs=1e-6), key
    assert main(["evaluate", "--model", str(out), "--device", "cpu"]) == 1
    assert "--data FILE or --dataset NAME" in capsys.readouterr().err
