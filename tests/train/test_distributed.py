"""Two Gloo processes on CPU (DDP) train exactly like one process with the same global batch."""

import os
import socket
from pathlib import Path

import pytest
import torch
import torch.distributed as dist
import torch.multiprocessing as mp
from safetensors.torch import load_file
from toy import toy_task, write_corpus

from pixel.train.metrics import read_metrics
from pixel.train.trainer import Trainer


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def run_rank(rank: int, world_size: int, port: int, root: str) -> None:
    os.environ.update({"RANK": str(rank), "LOCAL_RANK": str(rank), "WORLD_SIZE": str(world_size),
                       "MASTER_ADDR": "127.0.0.1", "MASTER_PORT": str(port)})
    torch.set_num_threads(1)
    try:  # DDP, 2 ranks x batch 2
        task = toy_task(Path(root) / "ddp", corpus=Path(root) / "corpus.txt", max_steps=4, save_every=4,
                        batch_size=2, grad_accum_steps=1)
        Trainer(task, task.config).train()
    finally:
        dist.destroy_process_group()


@pytest.mark.slow
def test_two_gloo_processes_match_one_process_with_the_same_global_batch(tmp_path):
    write_corpus(tmp_path / "corpus.txt")  # written once, read by both ranks
    # 2 ranks x batch 2 == 1 rank x batch 2 x 2 accumulation steps: same examples, mean of the two halves
    mp.spawn(run_rank, args=(2, free_port(), str(tmp_path)), nprocs=2, join=True)
    single = toy_task(tmp_path / "single", corpus=tmp_path / "corpus.txt", max_steps=4, save_every=4,
                      batch_size=2, grad_accum_steps=2)
    Trainer(single, single.config).train()
    single_metrics = [m for m in read_metrics(tmp_path / "single" / "run") if "loss" in m]
    one = load_file(str(tmp_path / "single" / "run" / "checkpoint-4" / "model.safetensors"))

    run = tmp_path / "ddp" / "run"
    metrics = [m for m in read_metrics(run) if "loss" in m]
    assert [m["examples_consumed"] for m in metrics] == [m["examples_consumed"] for m in single_metrics]
    for a, b in zip(metrics, single_metrics, strict=True):
        assert abs(a["loss"] - b["loss"]) < 1e-6, (a, b)
        assert abs(a["grad_norm"] - b["grad_norm"]) < 1e-5, (a, b)
    weights = load_file(str(run / "checkpoint-4" / "model.safetensors"))
    assert weights.keys() == one.keys()
    for key in one:
        assert torch.allclose(weights[key], one[key], atol=1e-6), key
    # only rank 0 wrote: one metrics file, one checkpoint folder
    assert sorted(p.name for p in run.iterdir()) == ["checkpoint-4", "metrics.jsonl"]
