"""FSDP (``distributed: fsdp``) on 2 Gloo processes trains a tiny PIXEL model exactly like 1 process with the
same global batch (gradient clipping included); its checkpoints load with from_pretrained and resume exactly."""

import os
from pathlib import Path

import pytest
import torch
import torch.distributed as dist
import torch.multiprocessing as mp
from safetensors.torch import load_file
from test_distributed import free_port
from toy import StubMasker, StubRenderer, toy_task, write_corpus

from pixel.model.config import PIXELConfig
from pixel.model.pixel import PIXELForPreTraining
from pixel.pretrain.task import PretrainingTask
from pixel.train.metrics import read_metrics
from pixel.train.trainer import Trainer


def pixel_task(root: Path, **settings) -> PretrainingTask:
    """A 2+2-layer PIXEL model (its layers are FSDP units) on the stub renderer and masker, 16 patches.
    max_grad_norm 0.05 makes clipping act on every step (the norms here are ~0.1 to 1)."""
    config = toy_task(root, corpus=root.parent / "corpus.txt", max_steps=4, batch_size=2, max_grad_norm=0.05,
                      **settings).config
    torch.manual_seed(0)
    model = PIXELForPreTraining(PIXELConfig.variant("tiny", image_size=[16, 256], hidden_dropout_prob=0.0,
                                                    attention_probs_dropout_prob=0.0))
    return PretrainingTask(config, model, StubRenderer(16), StubMasker(16))


def run_rank(rank: int, world_size: int, port: int, root: str) -> None:
    os.environ.update({"RANK": str(rank), "LOCAL_RANK": str(rank), "WORLD_SIZE": str(world_size),
                       "MASTER_ADDR": "127.0.0.1", "MASTER_PORT": str(port)})
    torch.set_num_threads(1)
    try:
        task = pixel_task(Path(root) / "fsdp", distributed="fsdp", save_every=2)
        Trainer(task, task.config).train()
        # a second run picks up the step-2 checkpoint in the same 2 processes
        again = pixel_task(Path(root) / "resumed", distributed="fsdp", save_every=2)
        trainer = Trainer(again, again.config)
        trainer.resume(Path(root) / "fsdp" / "run" / "checkpoint-2")
        trainer.train()
    finally:
        dist.destroy_process_group()


def curve(run: Path) -> dict[int, dict]:
    return {m["step"]: m for m in read_metrics(run) if "loss" in m}


@pytest.mark.slow
def test_fsdp_on_two_processes_matches_one_process_and_resumes(tmp_path):
    write_corpus(tmp_path / "corpus.txt")
    mp.spawn(run_rank, args=(2, free_port(), str(tmp_path)), nprocs=2, join=True)
    # 1 rank x batch 2 x 2 accumulation steps == 2 ranks x batch 2: the same examples
    single = pixel_task(tmp_path / "single", grad_accum_steps=2, save_every=4)
    Trainer(single, single.config).train()

    run, one = tmp_path / "fsdp" / "run", curve(tmp_path / "single" / "run")
    sharded = curve(run)
    assert sorted(sharded) == sorted(one) == [1, 2, 3, 4]
    for step in one:
        assert sharded[step]["examples_consumed"] == one[step]["examples_consumed"]
        assert abs(sharded[step]["loss"] - one[step]["loss"]) < 1e-5, (sharded[step], one[step])
        assert abs(sharded[step]["grad_norm"] - one[step]["grad_norm"]) < 1e-5, (sharded[step], one[step])
        assert one[step]["grad_norm"] > 0.05  # clipping was active
    assert len({round(m["loss"], 4) for m in one.values()}) == 4  # the model did learn something each step

    # only rank 0 wrote; the checkpoint is a plain full model that from_pretrained loads
    assert sorted(p.name for p in run.iterdir()) == ["checkpoint-2", "checkpoint-4", "metrics.jsonl"]
    loaded = PIXELForPreTraining.from_pretrained(run / "checkpoint-4")
    reference = load_file(str(tmp_path / "single" / "run" / "checkpoint-4" / "model.safetensors"))
    state = loaded.state_dict()
    assert reference.keys() <= state.keys()
    for key, value in reference.items():
        assert torch.allclose(state[key], value, atol=1e-5), key
    optimizer = load_file(str(run / "checkpoint-4" / "optimizer.safetensors"))
    single_optimizer = load_file(str(tmp_path / "single" / "run" / "checkpoint-4" / "optimizer.safetensors"))
    assert optimizer.keys() == single_optimizer.keys()
    for key, value in single_optimizer.items():
        assert torch.allclose(optimizer[key], value, atol=1e-5), key

    # resuming from step 2 under FSDP reproduces steps 3 and 4 and the final weights
    resumed_run = tmp_path / "resumed" / "run"
    resumed = curve(resumed_run)
    assert sorted(resumed) == [3, 4]
    for step in (3, 4):
        assert abs(resumed[step]["loss"] - sharded[step]["loss"]) < 1e-6, (resumed[step], sharded[step])
    final = load_file(str(run / "checkpoint-4" / "model.safetensors"))
    final_resumed = load_file(str(resumed_run / "checkpoint-4" / "model.safetensors"))
    for key, value in final.items():
        assert torch.allclose(final_resumed[key], value, atol=1e-6), key
