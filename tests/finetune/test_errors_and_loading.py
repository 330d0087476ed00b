"""Bad input is a clean CLI error (exit 1, a message naming the problem); original Team-PIXEL fine-tuned
checkpoints (no task name, no pooling mode in config.json) load."""

from __future__ import annotations

import json
import shutil

from pixel.cli.main import main

from .conftest import TASK_DATA, finetune_command


def _error(capsys) -> str:
    captured = capsys.readouterr()
    return captured.err


def test_finetune_input_errors(tiny_pretrained, tmp_path, capsys):
    out = str(tmp_path / "out")
    conllu = TASK_DATA / "tiny.conllu"
    assert main(finetune_command("pos", tiny_pretrained, conllu, tmp_path / "o", conllu, "--max_stepz", "3")) == 1
    assert "did you mean max_steps" in _error(capsys)
    assert main(finetune_command("pos", tiny_pretrained, TASK_DATA / "bad_id.conllu", tmp_path / "o", conllu)) == 1
    assert "bad_id.conllu:" in _error(capsys)
    assert main(finetune_command("ner", tiny_pretrained, TASK_DATA / "bad_ner_label.txt", tmp_path / "o")) == 1
    assert "bad_ner_label.txt:" in _error(capsys)
    assert main(finetune_command("classification", tiny_pretrained, TASK_DATA / "pairs.csv", tmp_path / "o")) == 1
    assert "missing column(s) sentence" in _error(capsys)
    assert main(finetune_command("classification", tiny_pretrained, TASK_DATA / "empty.csv", tmp_path / "o")) == 1
    assert "empty" in _error(capsys)
    assert main(finetune_command("pos", tiny_pretrained, tmp_path / "missing.conllu", tmp_path / "o")) == 1
    assert "missing.conllu" in _error(capsys)
    assert main(["finetune", "pos", "--train", str(conllu), "--output_dir", out]) == 1
    assert "--model" in _error(capsys)
    assert main(["finetune", "pos", "--model", str(tiny_pretrained), "--train", str(conllu), "--output_dir", out]) == 1
    assert "--validation" in _error(capsys)  # early stopping (the recipe's default) needs validation data
    no_renderer = tmp_path / "no-renderer"
    no_renderer.mkdir()
    for name in ("config.json", "model.safetensors"):
        shutil.copy(tiny_pretrained / name, no_renderer / name)
    assert main(finetune_command("pos", no_renderer, conllu, tmp_path / "o")) == 1
    assert "--renderer" in _error(capsys)
    assert main(finetune_command("pos", no_renderer, conllu, tmp_path / "o", None, "--renderer",
                                 str(tiny_pretrained), "--max_steps", "1")) == 0


def test_evaluate_and_predict_errors(pos_model, tiny_pretrained, tmp_path, capsys):
    assert main(["evaluate", "--model", str(pos_model), "--data", str(TASK_DATA / "bad_head.conllu")]) == 1
    assert "bad_head.conllu:" in _error(capsys)
    assert main(["evaluate", "--model", str(tiny_pretrained), "--data", str(TASK_DATA / "tiny.conllu")]) == 1
    assert "names no fine-tuned task" in _error(capsys)
    assert main(["predict", "--model", str(pos_model), "   "]) == 1
    assert "has no words" in _error(capsys)
    assert main(["predict", "--model", str(pos_model)]) == 1
    assert "nothing to predict" in _error(capsys)
    assert main(["predict", "--model", str(pos_model), "--pooling_mode", "cls", "a b"]) == 1
    assert "classification models only" in _error(capsys)
    assert main(["evaluate", "--model", str(tmp_path / "nothing"), "--data", str(TASK_DATA / "tiny.conllu")]) == 1
    assert "nothing" in _error(capsys)


def test_qa_predict_needs_question_and_context(tiny_pretrained, tmp_path, capsys):
    out = tmp_path / "qa"
    data = TASK_DATA / "tiny_squad_v1.json"
    assert main(finetune_command("qa", tiny_pretrained, data, out, None, "--max_steps", "1")) == 0
    capsys.readouterr()
    assert main(["predict", "--model", str(out), "--question", "Who?"]) == 1
    assert "--question Q --context C" in _error(capsys)
    # Many questions: JSON lines of question and context (plain lines cannot hold both)
    questions = tmp_path / "questions.jsonl"
    questions.write_text(json.dumps({"id": "q1", "question": "Who wrote it?", "context": "Ada wrote it."}) + "\n"
                         + json.dumps({"question": "Where?", "context": "In London."}) + "\n")
    assert main(["predict", "--model", str(out), "--file", str(questions), "--json", "--quiet"]) == 0
    records = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert [r["id"] for r in records] == ["q1", f"{questions}:2"] and all("answer" in r for r in records)
    plain = tmp_path / "questions.txt"
    plain.write_text("Who wrote it?\n")
    assert main(["predict", "--model", str(out), "--file", str(plain)]) == 1
    assert 'questions.txt:1: a QA model needs JSON lines with "question" and "context"' in _error(capsys)


def _as_original(folder, drop=("pixel_task", "task_settings", "pooling_mode", "add_layer_norm")):
    """What a Team-PIXEL fine-tuned config.json holds: no task name, settings or pooling mode."""
    path = folder / "config.json"
    config = json.loads(path.read_text())
    for key in drop:
        config.pop(key, None)
    config["model_type"] = "vit"
    path.write_text(json.dumps(config))


def test_original_checkpoints_load(tmp_path, tiny_pretrained, capsys):
    import torch

    from pixel.finetune.model_folder import load_finetuned
    from pixel.model.config import PIXELConfig
    from pixel.model.heads import PIXELForSequenceClassification, PIXELForTokenClassification
    from pixel.render.folder import load_renderer

    renderer = load_renderer(tiny_pretrained, max_seq_length=32)
    classifier = tmp_path / "sst2"
    labels = {0: "0", 1: "1"}
    torch.manual_seed(0)
    model = PIXELForSequenceClassification(PIXELConfig.variant("tiny", image_size=[16, 512], id2label=labels),
                                           pooling_mode="cls")
    model.save_pretrained(classifier)
    renderer.save_pretrained(classifier)
    _as_original(classifier)
    loaded = load_finetuned(str(classifier), pooling_mode="cls")
    assert loaded.family.name == "classification" and loaded.model.pooling_mode == "cls"
    assert loaded.vocabulary.labels == ["0", "1"]
    state = model.state_dict()
    assert all(loaded.model.state_dict()[k].equal(v) for k, v in state.items())  # vit.pooler kept in cls mode
    assert main(["evaluate", "--model", str(classifier), "--pooling_mode", "cls", "--data",
                 str(TASK_DATA / "sst2.tsv"), "--device", "cpu"]) == 0
    assert "accuracy" in capsys.readouterr().out

    tagger = tmp_path / "ner"
    ner_labels = {0: "O", 1: "B-PER", 2: "I-PER"}
    config = PIXELConfig.variant("tiny", image_size=[16, 512], id2label=ner_labels)
    PIXELForTokenClassification(config).save_pretrained(tagger)
    renderer.save_pretrained(tagger)
    _as_original(tagger)
    assert load_finetuned(str(tagger)).family.name == "ner"
    assert load_finetuned(str(tagger), task="pos").family.name == "pos"
