"""Extractive QA (SQuAD format, TyDiQA-GoldP, v2 unanswerable questions): (question, context) pairs rendered
with overflow windows; answers back from the start/end logits of every window; SQuAD exact match and F1."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from pixel.data.tasks import hub, metrics
from pixel.data.tasks import qa as data
from pixel.data.tasks.hub import HubSplit
from pixel.finetune.base import Family, Feature


class QAFamily(Family):
    """settings: doc_stride, question_max_length, n_best_size, max_answer_length, version_2_with_negative,
    null_score_diff_threshold, rtl. Prediction: {"answer", "probability", "nbest"}."""

    name = "qa"
    model_class_name = "PIXELForQuestionAnswering"
    primary_metric = "f1"
    last_read: data.SquadData | None = None

    def read(self, path: str | Path | HubSplit, labelled: bool = True) -> list[data.QAExample]:
        squad = hub.read_squad(path) if isinstance(path, HubSplit) else data.read_squad(path)
        self.last_read = squad
        return squad.examples

    def vocabulary(self, train_examples) -> None:
        return None

    def features(self, index, example, renderer, vocabulary, unseen) -> list[Feature]:
        s = self.settings
        encoding = renderer(example.renderer_input(), return_offset_mapping=True, return_overflowing_patches=True,
                            stride=int(s.get("doc_stride", 160)),
                            text_a_max_length=int(s.get("question_max_length", 128)), rtl=bool(s.get("rtl")))
        return [Feature(window.as_dict(), index, window) for window in data.build_qa_features(example, encoding)]

    def reduce(self, batch, output, features) -> list[dict[str, Any]]:
        starts = output.start_logits.float().cpu().numpy()
        ends = output.end_logits.float().cpu().numpy()
        return [{"start": s, "end": e} for s, e in zip(starts, ends, strict=True)]

    def decode(self, examples, features, results, vocabulary) -> list[dict[str, Any]]:
        import numpy as np

        s = self.settings
        answers = data.postprocess_all(
            examples, [f.meta for f in features], np.stack([r["start"] for r in results]),
            np.stack([r["end"] for r in results]), n_best=int(s.get("n_best_size", 20)),
            max_answer_length=int(s.get("max_answer_length", 30)),
            version_2_with_negative=bool(s.get("version_2_with_negative")),
            null_score_diff_threshold=float(s.get("null_score_diff_threshold", 0.0)))
        return [{"answer": answers[e.id].text, "probability": answers[e.id].probability,
                 "nbest": answers[e.id].nbest[:5]} for e in examples]

    def score(self, examples, predictions) -> dict[str, float]:
        return metrics.squad_scores({e.id: p["answer"] for e, p in zip(examples, predictions, strict=True)},
                                    {e.id: e.answer_texts for e in examples})

    def to_json(self, example, prediction) -> dict[str, Any]:
        record = {"id": example.id, "question": example.question, **prediction}
        if example.answer_texts:
            record["gold"] = example.answer_texts
        return record

    def to_text(self, example, prediction) -> str:
        answer = prediction["answer"] or "(no answer)"
        return f"{example.question}\t{answer}\t(score {prediction['probability']:.3f})"

    def parse_inputs(self, texts: list[str], options: dict[str, Any]) -> list[data.QAExample]:
        question, context = options.get("question"), options.get("context")
        if texts or not question or not context:
            raise ValueError("a QA model answers --question Q --context C (no other text arguments)")
        return [data.QAExample(id="0", question=question, context=context)]

    def parse_record(self, record: dict[str, Any], where: str) -> data.QAExample:
        """{"question": ..., "context": ...} and an optional "id" (default: ``where``)."""
        question, context = record.get("question"), record.get("context")
        if not isinstance(question, str) or not isinstance(context, str) or not question or not context:
            raise ValueError(f"{where}: a QA model needs JSON lines with \"question\" and \"context\" strings")
        return data.QAExample(id=str(record.get("id", where)), question=question, context=context)
