"""Label vocabularies of the fine-tuning tasks and the policy for labels that training never saw.

Policy for unseen labels (validation or test labels missing from the training vocabulary):
- they are reported once per split (`LabelVocabulary.encode_all` returns the counts; callers log them);
- in label tensors they become ``IGNORE_INDEX`` (-100), so they add nothing to the loss;
- metrics are computed on label *strings* (`decode` of the predictions against the example's gold strings),
  so such a gold label always counts as an error: the model cannot predict a label it never saw, and the
  score is not inflated by dropping the hard cases.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

from pixel.model.config import IGNORE_INDEX


@dataclass
class LabelVocabulary:
    """Ordered label strings <-> ids. ``labels`` are sorted when built from data, so the ids are stable."""

    labels: list[str]
    _index: dict[str, int] = field(init=False, repr=False)

    def __post_init__(self) -> None:
        if not self.labels:
            raise ValueError("a label vocabulary needs at least one label; the training data has none")
        duplicates = [label for label, count in Counter(self.labels).items() if count > 1]
        if duplicates:
            raise ValueError(f"duplicate labels in the vocabulary: {duplicates}")
        self._index = {label: i for i, label in enumerate(self.labels)}

    @classmethod
    def from_data(cls, labels: Iterable[str], first: Sequence[str] = ()) -> LabelVocabulary:
        """Vocabulary of the labels seen in training data: ``first`` (e.g. ``["O"]``) then the rest sorted."""
        seen = set(labels)
        head = [label for label in first if label in seen]
        return cls(head + sorted(seen - set(head)))

    def __len__(self) -> int:
        return len(self.labels)

    def __contains__(self, label: object) -> bool:
        return label in self._index

    def encode(self, label: str) -> int:
        """Id of ``label``; ``IGNORE_INDEX`` when training never saw it (see the module policy)."""
        return self._index.get(label, IGNORE_INDEX)

    def encode_all(self, labels: Iterable[str]) -> tuple[list[int], Counter[str]]:
        """Ids of ``labels`` and a count of the unseen ones (empty when all are known)."""
        ids: list[int] = []
        unseen: Counter[str] = Counter()
        for label in labels:
            index = self.encode(label)
            if index == IGNORE_INDEX:
                unseen[label] += 1
            ids.append(index)
        return ids, unseen

    def decode(self, index: int) -> str:
        if not 0 <= index < len(self.labels):
            raise ValueError(f"label id {index} is outside the vocabulary of {len(self.labels)} labels")
        return self.labels[index]

    def to_json(self) -> list[str]:
        return list(self.labels)


def describe_unseen(unseen: Counter[str], split: str) -> str:
    """One line for the log, e.g. ``validation: 3 labels never seen in training (B-X x2, Y x1) ...``."""
    if not unseen:
        return f"{split}: every label was seen in training"
    listed = ", ".join(f"{label} x{count}" for label, count in unseen.most_common())
    return (
        f"{split}: {sum(unseen.values())} labels never seen in training ({listed}); they are ignored in the "
        "loss and count as errors in the metrics"
    )
