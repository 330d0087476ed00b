"""Task data from a Hugging Face ``datasets`` dataset (optional package, imported only when used).

Each reader gives the same examples as the file reader of its task (classification.py, conllu.py, ner.py,
qa.py), so everything downstream is unchanged. ClassLabel columns of token tasks (an id per token) become
their label names, as the files hold them; a classification label stays its id (see read_classification). Errors name the split as ``NAME/CONFIG[SPLIT]:ROW`` (rows count
from 1).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from .classification import ClassificationExample, classification_examples
from .conllu import ConlluSentence
from .labels import IGNORE_INDEX
from .ner import NerSentence, check_bio_label
from .qa import SquadData, squad_from_flat_items
from .reading import DataFormatError

INSTALL_HINT = "pip install 'pixel-lm[datasets]'"


@dataclass
class HubSplit:
    """One split of a Hub dataset (or a local dataset folder/script ``load_dataset`` accepts).
    columns: task column names (tokens_column, tags_column, head_column, deprel_column) for the readers."""

    name: str
    split: str
    config: str | None = None
    columns: dict[str, str | None] = field(default_factory=dict)

    def __str__(self) -> str:
        return f"{self.name}{'/' + self.config if self.config else ''}[{self.split}]"


def load_split(source: HubSplit) -> Any:
    """The ``datasets.Dataset`` of ``source`` (RuntimeError naming the extra when ``datasets`` is missing)."""
    try:
        import datasets
    except ImportError:
        raise RuntimeError(f"--dataset needs the optional package 'datasets': {INSTALL_HINT} (or give local "
                           "files with --train/--validation/--test)") from None
    try:
        return datasets.load_dataset(source.name, source.config, split=source.split)
    except Exception as err:  # the datasets library raises many types (network, missing config or split)
        raise RuntimeError(f"could not load dataset {source}: {type(err).__name__}: {err}") from err


def _rows(source: HubSplit, dataset: Any, required: list[str]) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    features = dict(getattr(dataset, "features", None) or {})
    rows = [dict(row) for row in dataset]
    columns = list(features) or list(dict.fromkeys(key for row in rows for key in row))
    missing = [c for c in required if c not in columns]
    if missing:
        raise DataFormatError(f"{source}: missing column(s) {', '.join(missing)}; the dataset has "
                              f"{', '.join(columns)}. Choose the columns with the *_column options")
    if not rows:
        raise DataFormatError(f"{source}: the split has no rows")
    return features, rows


def class_names(feature: Any) -> list[str] | None:
    """Label names of a ClassLabel feature, or of the ClassLabel inside a sequence feature; else None."""
    if isinstance(feature, list | tuple) and len(feature) == 1:
        feature = feature[0]
    names = getattr(feature, "names", None)
    if names is None:
        names = getattr(getattr(feature, "feature", None), "names", None)
    return list(names) if names is not None else None


def _name(source: HubSplit, row: int, column: str, value: Any, names: list[str] | None) -> Any:
    """``value`` unchanged, or its ClassLabel name; -1 (no label, e.g. GLUE test splits) is an error."""
    if names is None or isinstance(value, str):
        return value
    if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value < len(names):
        raise DataFormatError(f"{source}:{row}: column {column!r} holds {value!r}, not a label id 0..{len(names) - 1}"
                              f"{' (-1 = no label: use a labelled split)' if value == -1 else ''}")
    return names[value]


def read_classification(source: HubSplit, text_column: str = "sentence", pair_column: str | None = None,
                        label_column: str | None = "label", regression: bool = False,
                        strip_spaces: bool = False) -> list[ClassificationExample]:
    """As classification.read_classification, from a dataset split. A ClassLabel column stays its ids, as
    text ("0", "1", ...) like the GLUE files: the classification F1 is that of class "1" (GLUE's positive
    class, e.g. MRPC "equivalent"), which sorted label names would not keep. -1 (no label) is an error."""
    dataset = load_split(source)
    wanted = [c for c in (text_column, pair_column, label_column) if c is not None]
    features, rows = _rows(source, dataset, wanted)
    if label_column is not None and not regression:
        names = class_names(features.get(label_column))
        for number, row in enumerate(rows, start=1):
            _name(source, number, label_column, row[label_column], names)  # checks the id
    return classification_examples(str(source), list(features) or wanted, list(enumerate(rows, start=1)),
                                   text_column, pair_column, label_column, regression, strip_spaces)


def _token_lists(source: HubSplit, rows: list[dict[str, Any]], features: dict[str, Any],
                 columns: list[str]) -> list[tuple[int, list[list[Any]]]]:
    """Per row, the value lists of ``columns`` (ClassLabel ids as names), all of the row's token count."""
    names = {c: class_names(features.get(c)) for c in columns}
    result = []
    for number, row in enumerate(rows, start=1):
        lists = []
        for column in columns:
            values = row[column]
            if not isinstance(values, list | tuple):
                raise DataFormatError(f"{source}:{number}: column {column!r} must hold a list per sentence, "
                                      f"found {type(values).__name__}")
            lists.append([_name(source, number, column, v, names[column]) for v in values])
        if len({len(values) for values in lists}) > 1:
            counts = ", ".join(f"{c} {len(v)}" for c, v in zip(columns, lists, strict=True))
            raise DataFormatError(f"{source}:{number}: columns differ in length ({counts})")
        for word in lists[0]:
            if not isinstance(word, str) or not word:
                raise DataFormatError(f"{source}:{number}: empty or non-text token {word!r} in {columns[0]!r}")
        result.append((number, lists))
    return result


def read_ner(source: HubSplit, tokens_column: str = "tokens", tags_column: str = "ner_tags") -> list[NerSentence]:
    """As ner.read_conll_ner: words and BIO labels (e.g. conll2003's ``tokens`` / ``ner_tags``)."""
    dataset = load_split(source)
    features, rows = _rows(source, dataset, [tokens_column, tags_column])
    sentences = []
    for number, (words, labels) in _token_lists(source, rows, features, [tokens_column, tags_column]):
        for label in labels:
            check_bio_label(str(label), f"{source}:{number}")
        if words:
            sentences.append(NerSentence(list(words), [str(label) for label in labels]))
    if not sentences:
        raise DataFormatError(f"{source}: no sentences found")
    return sentences


def read_conllu(source: HubSplit, tokens_column: str = "tokens", upos_column: str | None = "upos",
                head_column: str | None = "head", deprel_column: str | None = None,
                require_head: bool = False) -> list[ConlluSentence]:
    """As conllu.read_conllu, from the universal_dependencies layout: ``tokens``, ``upos`` (ClassLabel),
    ``head`` (strings, "0" = root, "_" = none) and ``deprel`` (cut at ':'). Rows whose head is None
    (multiword tokens in that dataset) are skipped like the multiword lines of a CoNLL-U file. The head
    column is optional for POS (used only to skip those rows when present); upos_column None reads no tags."""
    dataset = load_split(source)
    required = [c for c in (tokens_column, upos_column, deprel_column) if c is not None]
    if require_head and head_column is not None:
        required.append(head_column)
    features, rows = _rows(source, dataset, required)
    use_head = head_column is not None and head_column in (set(features) or set(rows[0]))
    columns = required + ([head_column] if use_head and head_column not in required else [])
    sentences = []
    for number, lists in _token_lists(source, rows, features, columns):
        values = dict(zip(columns, lists, strict=True))
        keep = range(len(lists[0]))
        if use_head:
            keep = [i for i, h in enumerate(values[head_column]) if h is not None and h != "None"]
        words = [values[tokens_column][i] for i in keep]
        if not words:
            continue
        upos = [str(values[upos_column][i]) for i in keep] if upos_column else ["_"] * len(words)
        heads: list[int] = []
        relations: list[str] = []
        if use_head:
            heads = [_head(source, number, values[head_column][i], len(words)) for i in keep]
        if deprel_column:
            relations = [str(values[deprel_column][i]).split(":")[0] for i in keep]
        sentences.append(ConlluSentence(words=words, upos=upos, heads=heads, relations=relations))
    if not sentences:
        raise DataFormatError(f"{source}: no sentences found")
    return sentences


def _head(source: HubSplit, number: int, value: Any, num_words: int) -> int:
    text = str(value)
    if text == "_":
        return IGNORE_INDEX
    if not text.isdigit():
        raise DataFormatError(f"{source}:{number}: head {value!r} is not a word number (0 = root)")
    if int(text) > num_words:
        raise DataFormatError(f"{source}:{number}: head {text} points past the last word ({num_words})")
    return int(text)


def read_squad(source: HubSplit) -> SquadData:
    """As qa.read_squad, from the SQuAD layout ``id, question, context, answers: {text, answer_start}``."""
    dataset = load_split(source)
    _, rows = _rows(source, dataset, ["id", "question", "context", "answers"])
    return squad_from_flat_items(str(source), [(f"row {i}", row) for i, row in enumerate(rows, start=1)])
