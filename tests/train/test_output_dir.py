"""One run per output folder (issue 13 items 3, 5, 7): a fresh run into a used folder is refused, overwriting
deletes the earlier run's files only, a file is no folder, killed saves leave nothing behind for long."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from pixel.cli.main import main
from pixel.train.checkpoint import list_checkpoints
from pixel.train.output_dir import prepare_output_dir

ROOT = Path(__file__).resolve().parents[2]
SMOKE = ["--config", str(ROOT / "configs" / "pretrain" / "pixel-base.yaml"), "--smoke"]


def earlier_run(folder: Path, steps=(30, 40), checkpoints: bool = True) -> Path:
    """What a finished (or killed) run leaves: checkpoints, logs, its settings, a renderer with its font."""
    folder.mkdir(parents=True)
    for step in steps if checkpoints else ():
        (folder / f"checkpoint-{step}").mkdir()
        (folder / f"checkpoint-{step}" / "trainer_state.json").write_text("{}")
    (folder / "metrics.jsonl").write_text("".join(json.dumps({"step": s, "loss": 1.0}) + "\n" for s in steps))
    (folder / "pretrain_config.yaml").write_text("max_steps: 40\n")
    (folder / "tensorboard").mkdir()
    (folder / "text_renderer_config.json").write_text(json.dumps({"font_file": "Font.ttf"}))
    (folder / "Font.ttf").write_bytes(b"font")
    (folder / "predictions_test.jsonl").write_text("{}\n")
    return folder


def test_a_fresh_run_into_a_used_folder_is_refused_and_changes_nothing(tmp_path, capsys):
    # It deleted its own checkpoint-5 at once (keep_last among checkpoints 30 and 40), mixed metrics.jsonl and
    # overwrote the settings; a later --resume continued the old run.
    run = earlier_run(tmp_path / "run")
    before = sorted(p.name for p in run.iterdir())
    corpus = tmp_path / "corpus.txt"
    corpus.write_text("some text to train on\n")
    for command in (["pretrain", *SMOKE, "--train_files", str(corpus)],
                    ["finetune", "pos", "--model", str(tmp_path), "--train", str(corpus), "--early_stopping_patience", "0"]):
        assert main([*command, "--output_dir", str(run), "--max_steps", "5"]) == 1
        error = capsys.readouterr().err
        assert f"output_dir {run} already holds a run (checkpoints checkpoint-30, checkpoint-40)" in error
        assert "--resume" in error and "--overwrite_output_dir" in error and "new --output_dir" in error
    assert sorted(p.name for p in run.iterdir()) == before


def test_a_run_killed_before_its_first_checkpoint_is_named_so(tmp_path):
    run = earlier_run(tmp_path / "run", steps=(1, 2), checkpoints=False)
    with pytest.raises(ValueError, match=r"logs of a run without checkpoints \(killed before its first save\?\)"):
        prepare_output_dir(run, "pretrain_config.yaml")


def test_overwrite_deletes_the_earlier_run_and_nothing_else(tmp_path):
    run = earlier_run(tmp_path / "run")
    (run / "train.conllu").write_text("data kept beside the run\n")
    (run / ".tmp-checkpoint-50-x1y2").mkdir()
    prepare_output_dir(run, "pretrain_config.yaml", overwrite=True)
    assert sorted(p.name for p in run.iterdir()) == ["train.conllu"]
    with pytest.raises(ValueError, match="--resume continues the run in output_dir and --overwrite_output_dir"):
        prepare_output_dir(run, "pretrain_config.yaml", resume=run / "checkpoint-40", overwrite=True)


def test_overwrite_refuses_to_delete_what_the_run_reads(tmp_path):
    run = earlier_run(tmp_path / "run")
    with pytest.raises(ValueError, match=r"would delete .*checkpoint-40, which this run reads"):
        prepare_output_dir(run, "pretrain_config.yaml", overwrite=True, inputs=[run / "checkpoint-40"])
    assert (run / "checkpoint-40").is_dir()


def test_overwrite_end_to_end_leaves_only_the_new_run(tmp_path):
    run = earlier_run(tmp_path / "run")
    corpus = tmp_path / "corpus.txt"
    corpus.write_text("The quick brown fox jumps over the lazy dog.\nA second line of text.\n")
    assert main(["pretrain", *SMOKE, "--train_files", str(corpus), "--output_dir", str(run), "--max_steps", "1",
                 "--overwrite_output_dir"]) == 0
    assert [p.name for p in list_checkpoints(run)] == ["checkpoint-1"]
    steps = [json.loads(line)["step"] for line in (run / "metrics.jsonl").read_text().splitlines()]
    assert steps == [1] and not (run / "Font.ttf").exists() and not (run / "predictions_test.jsonl").exists()


@pytest.mark.parametrize("command", ["pretrain", "finetune"])
def test_an_output_dir_that_is_a_file_is_a_clear_error(tmp_path, capsys, command):
    # FileExistsError / NotADirectoryError tracebacks before.
    afile = tmp_path / "afile"
    afile.write_text("not a folder")
    corpus = tmp_path / "corpus.txt"
    corpus.write_text("text\n")
    args = (["pretrain", *SMOKE, "--train_files", str(corpus)] if command == "pretrain"
            else ["finetune", "pos", "--model", str(tmp_path), "--train", str(corpus), "--early_stopping_patience", "0"])
    assert main([*args, "--output_dir", str(afile)]) == 1
    assert f"output_dir {afile} is a file; give the path of a folder" in capsys.readouterr().err
    assert main([*args, "--output_dir", str(afile / "run")]) == 1
    assert f"output_dir {afile / 'run'} lies under {afile}, which is a file" in capsys.readouterr().err


def test_stale_temporaries_of_killed_saves_are_cleaned_at_start_and_after_a_save(tmp_path):
    from toy import toy_task

    from pixel.train.trainer import Trainer

    task = toy_task(tmp_path, max_steps=3, save_every=3)
    run = Path(task.config.output_dir)
    stale = [run / ".tmp-checkpoint-3-abc123", run / ".old-checkpoint-2-def456", run / ".tmp-best-ghi789"]
    for folder in stale:
        (folder / "model").mkdir(parents=True)
    (run / ".metrics.jsonl.k2j4h5g6.tmp").write_text("half written")
    prepare_output_dir(run, "pretrain_config.yaml")
    assert sorted(p.name for p in run.iterdir()) == []
    trainer = Trainer(task, task.config)
    stale[0].mkdir()  # a save killed while this run trains
    trainer.train()
    assert sorted(p.name for p in run.iterdir()) == ["checkpoint-3", "metrics.jsonl"]
