"""Dependency parsing from CoNLL-U with the biaffine head; UAS and LAS as the original trainer.

Heads are predicted among ROOT and the *rendered* words only (padding rows of the biaffine scores are
masked). Scoring as the original: the relation is read at the gold head; punctuation counts; a word the
renderer dropped counts as wrong; words whose gold HEAD is "_" are not scored.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import torch

from pixel.data.tasks import hub, metrics
from pixel.data.tasks.alignment import parsing_feature
from pixel.data.tasks.conllu import ConlluSentence, read_conllu
from pixel.data.tasks.hub import HubSplit
from pixel.data.tasks.labels import IGNORE_INDEX, LabelVocabulary
from pixel.finetune.base import Family, Feature


class ParsingFamily(Family):
    """Prediction: {"heads": [int per word, 0 = root, -1 = dropped], "relations": [str per word],
    "gold_head_relations": [relation read at the gold head, for LAS]}."""

    name = "parsing"
    model_class_name = "PIXELForBiaffineParsing"
    primary_metric = "las"

    def read(self, path: str | Path | HubSplit, labelled: bool = True) -> list[ConlluSentence]:
        if isinstance(path, HubSplit):
            c = path.columns
            return hub.read_conllu(path, c.get("tokens_column") or "tokens", None, c.get("head_column") or "head",
                                   c.get("deprel_column") or "deprel", require_head=True)
        return read_conllu(path)

    def vocabulary(self, train_examples) -> LabelVocabulary:
        return LabelVocabulary.from_data(r for e in train_examples for r in e.relations)

    def features(self, index, example, renderer, vocabulary, unseen) -> list[Feature]:
        words = example.renderer_input()
        encoding = renderer(words)
        if example.heads:
            relation_ids, missing = vocabulary.encode_all(example.relations)
            unseen.update(missing)
            heads = example.heads
        else:
            heads, relation_ids = [IGNORE_INDEX] * len(words), [IGNORE_INDEX] * len(words)
        inputs = parsing_feature(encoding, heads, relation_ids)
        if not example.heads:
            inputs.pop("arc_labels")
            inputs.pop("rel_labels")
        return [Feature(inputs, index, {"rendered": len(encoding.word_starts) - 1, "num_words": len(words)})]

    def has_targets(self, feature: Feature) -> bool:
        return bool((feature.inputs["arc_labels"] != IGNORE_INDEX).any())

    def reduce(self, batch, output, features) -> list[dict[str, Any]]:
        arc_logits = output.arc_logits.float()  # [B, L, L + 1]
        rel_logits = output.rel_logits.float()  # [B, L, L + 1, R]
        length = arc_logits.shape[1]
        rendered = torch.tensor([f.meta["rendered"] for f in features], device=arc_logits.device)
        candidates = torch.arange(length + 1, device=arc_logits.device)
        allowed = candidates[None, :] <= rendered[:, None]  # ROOT and the rendered words
        heads = arc_logits.masked_fill(~allowed[:, None, :], float("-inf")).argmax(-1)  # [B, L]
        index = heads[..., None, None].expand(-1, -1, 1, rel_logits.shape[-1])
        relations = rel_logits.gather(2, index).squeeze(2).argmax(-1)  # [B, L]
        gold = batch.get("arc_labels")
        at_gold = None
        if gold is not None:
            gold = gold.to(arc_logits.device)
            safe = gold.clamp(0, length)
            index = safe[..., None, None].expand(-1, -1, 1, rel_logits.shape[-1])
            at_gold = rel_logits.gather(2, index).squeeze(2).argmax(-1)
        results = []
        for row, feature in enumerate(features):
            n = feature.meta["rendered"]
            result = {"heads": heads[row, :n].cpu().numpy(), "relations": relations[row, :n].cpu().numpy()}
            if at_gold is not None:
                result["at_gold"] = at_gold[row, :n].cpu().numpy()
            results.append(result)
        return results

    def decode(self, examples, features, results, vocabulary) -> list[dict[str, Any]]:
        predictions: list[dict[str, Any]] = [{} for _ in examples]
        for feature, result in zip(features, results, strict=True):
            missing = feature.meta["num_words"] - feature.meta["rendered"]
            prediction = {"heads": [int(h) for h in result["heads"]] + [-1] * missing,
                          "relations": [vocabulary.decode(int(r)) for r in result["relations"]] + ["_"] * missing}
            if "at_gold" in result:
                prediction["gold_head_relations"] = [vocabulary.decode(int(r)) for r in result["at_gold"]] + \
                    ["_"] * missing
            predictions[feature.example_index] = prediction
        return predictions

    def score(self, examples, predictions) -> dict[str, float]:
        predicted_heads, predicted_relations, gold_heads, gold_relations = [], [], [], []
        for example, prediction in zip(examples, predictions, strict=True):
            for i, head in enumerate(example.heads):
                if head == IGNORE_INDEX:
                    continue
                predicted_heads.append(prediction["heads"][i])
                predicted_relations.append(prediction["gold_head_relations"][i])
                gold_heads.append(head)
                gold_relations.append(example.relations[i])
        if not gold_heads:
            raise ValueError("no word with a gold head to score (every HEAD is '_')")
        return metrics.attachment_scores(predicted_heads, predicted_relations, gold_heads, gold_relations)

    def to_json(self, example, prediction) -> dict[str, Any]:
        record = {"words": example.words, "heads": prediction["heads"], "relations": prediction["relations"]}
        if example.heads:
            record["gold_heads"], record["gold_relations"] = example.heads, example.relations
        return record

    def to_text(self, example, prediction) -> str:
        """CoNLL-U lines (ID FORM _ _ _ _ HEAD DEPREL _ _); a dropped word has HEAD and DEPREL '_'."""
        lines = []
        for i, word in enumerate(example.words):
            head = prediction["heads"][i]
            lines.append("\t".join([str(i + 1), word, "_", "_", "_", "_", str(head) if head >= 0 else "_",
                                    prediction["relations"][i], "_", "_"]))
        return "\n".join(lines) + "\n"

    def parse_inputs(self, texts: list[str], options: dict[str, Any]) -> list[ConlluSentence]:
        examples = []
        for text in texts:
            words = text.split()
            if not words:
                raise ValueError(f"input text {text!r} has no words")
            examples.append(ConlluSentence(words=words, upos=[], heads=[], relations=[]))
        return examples
