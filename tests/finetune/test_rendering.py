"""`pixel finetune --rendering`: the model's own rendering by default, a contradicting one refused, a chosen
one saved with the fine-tuned model (and read back by evaluate / predict)."""

from __future__ import annotations

import json
import shutil

from pixel.cli.main import main
from pixel.finetune.model_folder import load_finetuned

from .conftest import TASK_DATA, finetune_command

DATA = TASK_DATA / "tiny.conllu"


def test_rendering_follows_the_model_or_an_explicit_choice(tiny_pretrained, tmp_path, capsys):
    refused = finetune_command("pos", tiny_pretrained, DATA, tmp_path / "refused", None, "--rendering", "bigrams")
    assert main(refused) == 1
    err = capsys.readouterr().err
    assert "draws rendering='continuous', but rendering='bigrams' was asked for" in err and "Traceback" not in err

    out = tmp_path / "bigrams"  # the model's folder named explicitly: its patches drawn as bigrams on purpose
    assert main(finetune_command("pos", tiny_pretrained, DATA, out, None, "--renderer", str(tiny_pretrained),
                                 "--rendering", "bigrams", "--num_workers", "2")) == 0
    assert json.loads((out / "text_renderer_config.json").read_text())["rendering"] == "bigrams"
    assert load_finetuned(str(out)).renderer.rendering == "bigrams"
    capsys.readouterr()
    assert main(["predict", "--model", str(out), "--device", "cpu", "The cat sleeps ."]) == 0


def test_a_model_without_renderer_needs_an_explicit_one(tiny_pretrained, tmp_path, capsys):
    bare = tmp_path / "bare"
    bare.mkdir()
    for name in ("config.json", "model.safetensors"):
        shutil.copy(tiny_pretrained / name, bare / name)
    assert main(finetune_command("pos", bare, DATA, tmp_path / "none")) == 1
    err = capsys.readouterr().err
    assert "has no renderer folder" in err and "--renderer pangocairo" in err
    out = tmp_path / "mono"
    assert main(finetune_command("pos", bare, DATA, out, None, "--renderer", "pangocairo", "--rendering", "mono")) == 0
    assert load_finetuned(str(out)).renderer.rendering == "mono"
