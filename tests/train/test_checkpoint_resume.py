"""Checkpoints: exact resume, keep-last-K, SIGKILL during a save, corrupt or incompatible checkpoints."""

import json
import os
import shutil
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest
import torch
from safetensors.torch import load_file
from toy import toy_task

from pixel.train import checkpoint as ckpt
from pixel.train.metrics import read_metrics
from pixel.train.trainer import Trainer

SRC = str(Path(__file__).resolve().parents[2] / "src")


def losses(run_dir):
    return {m["step"]: m["loss"] for m in read_metrics(run_dir) if "loss" in m}


def test_resume_gives_the_same_loss_curve_as_an_uninterrupted_run(tmp_path):
    # dropout and 2 data workers: RNG state and data position must both be restored
    settings = dict(dropout=0.3, num_workers=2, max_steps=6, save_every=3, grad_accum_steps=2)
    full = toy_task(tmp_path / "full", **settings)
    Trainer(full, full.config).train()
    full_dir = Path(full.config.output_dir)
    assert sorted(p.name for p in ckpt.list_checkpoints(full_dir)) == ["checkpoint-3", "checkpoint-6"]

    # a second run that "died" after its step-3 checkpoint: only that checkpoint and metrics up to step 4
    resumed_dir = tmp_path / "resumed" / "run"
    resumed_dir.mkdir(parents=True)
    shutil.copytree(full_dir / "checkpoint-3", resumed_dir / "checkpoint-3")
    lines = (full_dir / "metrics.jsonl").read_text().splitlines()
    (resumed_dir / "metrics.jsonl").write_text("\n".join(lines[:4]) + "\n")
    task = toy_task(tmp_path / "resumed", **settings)
    trainer = Trainer(task, task.config)
    trainer.resume(ckpt.latest_checkpoint(resumed_dir))
    assert trainer.step == 3 and trainer.examples_consumed == 3 * 2 * 4
    trainer.train()

    assert losses(resumed_dir) == losses(full_dir)  # bitwise: same numbers, steps 4-6 recomputed
    assert len(losses(resumed_dir)) == 6
    final_full = load_file(str(full_dir / "checkpoint-6" / "model.safetensors"))
    final_resumed = load_file(str(resumed_dir / "checkpoint-6" / "model.safetensors"))
    for key, value in final_full.items():
        assert torch.equal(value, final_resumed[key]), key


def test_keep_last_k_and_checkpoint_contents(tmp_path):
    task = toy_task(tmp_path, max_steps=4, save_every=1, keep_last=2)
    Trainer(task, task.config).train()
    run = Path(task.config.output_dir)
    assert [p.name for p in ckpt.list_checkpoints(run)] == ["checkpoint-3", "checkpoint-4"]
    folder = run / "checkpoint-4"
    state = json.loads((folder / "trainer_state.json").read_text())
    assert state["step"] == 4 and state["examples_consumed"] == 16 and state["scheduler"] == {"step_count": 4}
    for name in ("model.safetensors", "optimizer.safetensors", "rng_state.safetensors", "loss_curve.png",
                 "text_renderer_config.json"):
        assert (folder / name).is_file(), name
    assert not [p for p in run.iterdir() if p.name.startswith(".tmp")]


def test_corrupt_or_incompatible_checkpoint_is_a_clear_error_naming_the_file(tmp_path):
    task = toy_task(tmp_path, max_steps=2, save_every=2)
    Trainer(task, task.config).train()
    folder = Path(task.config.output_dir) / "checkpoint-2"

    def fresh_trainer(**settings):
        other = toy_task(tmp_path / "other", **settings)
        return Trainer(other, other.config)

    weights = folder / "model.safetensors"
    good = weights.read_bytes()
    weights.write_bytes(good[: len(good) // 2])
    with pytest.raises(ckpt.CheckpointError, match=r"corrupt checkpoint file .*model\.safetensors"):
        fresh_trainer().resume(folder)
    weights.write_bytes(good)

    state = folder / "trainer_state.json"
    state.write_text("{ not json")
    with pytest.raises(ckpt.CheckpointError, match=r"corrupt checkpoint file .*trainer_state\.json"):
        fresh_trainer().resume(folder)
    state.unlink()
    with pytest.raises(ckpt.CheckpointError, match=r"missing: .*trainer_state\.json"):
        fresh_trainer().resume(folder)


def test_checkpoint_of_another_model_is_rejected(tmp_path):
    task = toy_task(tmp_path, max_steps=1, save_every=1)
    Trainer(task, task.config).train()
    folder = Path(task.config.output_dir) / "checkpoint-1"
    other = toy_task(tmp_path / "other")
    from toy import ToyMAE

    other.model = ToyMAE(hidden=8)
    with pytest.raises(ckpt.CheckpointError, match=r"model\.safetensors does not fit this model"):
        Trainer(other, other.config).resume(folder)


# The subprocess pauses its second save half-way (after optimizer.safetensors, before rng_state.safetensors)
# by wrapping checkpoint.save_file; it names the folder being written in `marker` and sleeps until killed.
KILL_SCRIPT = textwrap.dedent("""
    import os, sys, time
    from pathlib import Path
    sys.path[:0] = [{tests!r}, {src!r}]
    from toy import toy_task
    from pixel.train import checkpoint as ckpt
    from pixel.train.trainer import Trainer
    save_file, rng_saves = ckpt.save_file, []
    def save_file_pausing_in_the_second_save(tensors, filename, metadata=None):
        if ckpt.RNG_STATE in Path(filename).name:  # (written as a temporary file, then renamed)
            rng_saves.append(filename)
            if len(rng_saves) == 2:
                marker = Path({marker!r})
                marker.with_suffix(".tmp").write_text(str(Path(filename).parent))
                os.replace(marker.with_suffix(".tmp"), marker)
                time.sleep(120)
        return save_file(tensors, filename, metadata=metadata)
    ckpt.save_file = save_file_pausing_in_the_second_save
    task = toy_task(Path({root!r}), max_steps=4, save_every=2)
    Trainer(task, task.config).train()
""")


def test_sigkill_during_a_save_leaves_the_previous_checkpoint_loadable(tmp_path):
    marker = tmp_path / "paused"
    script = KILL_SCRIPT.format(tests=str(Path(__file__).parent), src=SRC, marker=str(marker), root=str(tmp_path))
    process = subprocess.Popen([sys.executable, "-c", script], stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    try:
        deadline = time.time() + 60
        while not marker.exists():
            assert process.poll() is None, process.stdout.read().decode()
            assert time.time() < deadline, "the save never reached the pause point"
            time.sleep(0.05)
        os.kill(process.pid, signal.SIGKILL)
        process.wait(timeout=10)
    finally:
        if process.poll() is None:
            process.kill()
    run = tmp_path / "run"
    assert Path(marker.read_text()).name.startswith(".tmp-checkpoint-4")  # killed inside the step-4 save
    assert [p.name for p in ckpt.list_checkpoints(run)] == ["checkpoint-2"]
    task = toy_task(tmp_path / "again", max_steps=4, save_every=2)
    trainer = Trainer(task, task.config)
    trainer.resume(ckpt.latest_checkpoint(run))
    assert trainer.step == 2


def test_resolve_resume_finds_the_newest_complete_checkpoint(tmp_path):
    for name in ("checkpoint-2", "checkpoint-10", ".tmp-checkpoint-12"):
        (tmp_path / name).mkdir()
    assert ckpt.resolve_resume(None, tmp_path) is None
    assert ckpt.resolve_resume("latest", tmp_path) == tmp_path / "checkpoint-10"
    assert ckpt.resolve_resume(str(tmp_path / "checkpoint-2"), tmp_path) == tmp_path / "checkpoint-2"
    with pytest.raises(FileNotFoundError, match="no checkpoint"):
        ckpt.resolve_resume("latest", tmp_path / "empty")
    with pytest.raises(FileNotFoundError, match="not found"):
        ckpt.resolve_resume(str(tmp_path / "checkpoint-3"), tmp_path)


def test_an_optimizer_state_missing_a_tensor_names_the_file(tmp_path):
    # It raised KeyError: 'exp_avg' inside optimizer.step() after resuming.
    from safetensors import safe_open
    from safetensors.torch import load_file, save_file

    task = toy_task(tmp_path, max_steps=1, save_every=1)
    Trainer(task, task.config).train()
    path = Path(task.config.output_dir) / "checkpoint-1" / ckpt.OPTIMIZER_STATE
    with safe_open(str(path), framework="pt") as handle:
        metadata = handle.metadata()
    tensors = load_file(str(path))
    dropped = next(key for key in tensors if key.endswith(".exp_avg"))
    save_file({k: v for k, v in tensors.items() if k != dropped}, str(path), metadata=metadata)
    other = toy_task(tmp_path / "other")
    with pytest.raises(ckpt.CheckpointError, match=rf"optimizer\.safetensors: the optimizer state of "
                                                   rf"{dropped[: -len('.exp_avg')]} lacks exp_avg; resume from an older"):
        Trainer(other, other.config).resume(path.parent)


def test_every_checkpoint_file_has_the_same_mode(tmp_path):
    # optimizer.safetensors and rng_state.safetensors were 0600 (safetensors' own mode), everything else 0644.
    task = toy_task(tmp_path, max_steps=1, save_every=1)
    Trainer(task, task.config).train()
    folder = Path(task.config.output_dir) / "checkpoint-1"
    modes = {path.name: path.stat().st_mode & 0o777 for path in folder.iterdir()}
    umask = os.umask(0)
    os.umask(umask)
    assert set(modes.values()) == {0o666 & ~umask}, modes
