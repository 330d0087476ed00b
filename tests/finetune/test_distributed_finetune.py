"""`pixel finetune` under two Gloo processes (as torchrun starts them) trains like one process with the same
global batch: same losses, same weights, one output folder written by rank 0."""

from __future__ import annotations

import os
import socket
from pathlib import Path

import pytest
import torch
import torch.multiprocessing as mp
from safetensors.torch import load_file

from pixel.cli.main import main
from pixel.train.metrics import read_metrics

from .conftest import TASK_DATA, finetune_command

DATA = TASK_DATA / "sst2.tsv"
# No dropout, so that the two set-ups draw no different random numbers.
SETTINGS = ["--dropout_prob", "0", "--max_steps", "4", "--save_every", "4", "--eval_every", "4",
            "--early_stopping_patience", "0", "--batch_size", "2"]


def run_rank(rank: int, port: int, model: str, output: str) -> None:
    os.environ.update({"RANK": str(rank), "LOCAL_RANK": str(rank), "WORLD_SIZE": "2",
                       "MASTER_ADDR": "127.0.0.1", "MASTER_PORT": str(port)})
    torch.set_num_threads(1)
    code = main(finetune_command("classification", Path(model), DATA, Path(output), None, *SETTINGS,
                                 "--grad_accum_steps", "1"))
    assert code == 0


@pytest.mark.slow
def test_two_gloo_processes_fine_tune_like_one(tiny_pretrained, tmp_path):
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    mp.spawn(run_rank, args=(port, str(tiny_pretrained), str(tmp_path / "ddp")), nprocs=2, join=True)
    assert main(finetune_command("classification", tiny_pretrained, DATA, tmp_path / "single", None, *SETTINGS,
                                 "--grad_accum_steps", "2")) == 0

    losses = {name: [m["loss"] for m in read_metrics(tmp_path / name) if "loss" in m] for name in ("ddp", "single")}
    assert len(losses["ddp"]) == 4
    assert losses["ddp"] == pytest.approx(losses["single"], abs=1e-6)
    ddp = load_file(str(tmp_path / "ddp" / "model.safetensors"))
    single = load_file(str(tmp_path / "single" / "model.safetensors"))
    assert ddp.keys() == single.keys()
    for key in single:
        assert torch.allclose(ddp[key], single[key], atol=1e-6), key
