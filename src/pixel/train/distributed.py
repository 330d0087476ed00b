"""torchrun integration: process group set-up from the environment, rank helpers."""

from __future__ import annotations

import os
from dataclasses import dataclass

import torch
import torch.distributed as dist


@dataclass(frozen=True)
class DistributedContext:
    rank: int = 0
    local_rank: int = 0
    world_size: int = 1

    @property
    def is_main(self) -> bool:
        return self.rank == 0

    @property
    def enabled(self) -> bool:
        return self.world_size > 1


def is_main_process() -> bool:
    """Whether this process is rank 0 of torchrun's job, or runs alone (known before joining the group)."""
    return int(os.environ.get("RANK", "0")) == 0


def init_distributed(device_request: str = "auto") -> tuple[DistributedContext, torch.device]:
    """Join the process group that torchrun describes (RANK, WORLD_SIZE, LOCAL_RANK, MASTER_ADDR/PORT).

    NCCL on CUDA, Gloo on CPU. Without torchrun (no WORLD_SIZE, or 1) this is a single process.
    device_request: "auto" (CUDA if present), "cpu", "cuda", "cuda:1", "mps".
    """
    world_size = int(os.environ.get("WORLD_SIZE", "1"))
    rank = int(os.environ.get("RANK", "0"))
    local_rank = int(os.environ.get("LOCAL_RANK", "0"))
    if device_request == "auto":
        device_request = "cuda" if torch.cuda.is_available() else "cpu"
    device = torch.device(device_request)
    if device.type == "cuda":
        if not torch.cuda.is_available():
            raise RuntimeError("device 'cuda' requested but no CUDA GPU is visible; use --device cpu")
        if device.index is None:
            device = torch.device("cuda", local_rank if world_size > 1 else torch.cuda.current_device())
        torch.cuda.set_device(device)
    if world_size > 1 and not dist.is_initialized():
        dist.init_process_group(backend="nccl" if device.type == "cuda" else "gloo")
    return DistributedContext(rank, local_rank, world_size), device


def all_reduce_mean(values: list[float], context: DistributedContext, device: torch.device) -> list[float]:
    """Mean of each value over ranks (identity on one process)."""
    if not context.enabled:
        return values
    tensor = torch.tensor(values, dtype=torch.float64, device=device)
    dist.all_reduce(tensor)
    return (tensor / context.world_size).tolist()


def barrier(context: DistributedContext) -> None:
    if context.enabled:
        dist.barrier()


# ---------------------------------------------------------------------------------------------- FSDP

def shard_model(model: torch.nn.Module, device: torch.device, context: DistributedContext) -> None:
    """Shard ``model`` in place with FSDP2 (``fully_shard``): each transformer layer (every child of an
    ``nn.ModuleList``) is one unit, the rest belongs to the root. Parameters become DTensors.

    Rank 0's weights are broadcast first: FSDP (unlike DDP) assumes every rank starts from the same values."""
    from torch.distributed.device_mesh import init_device_mesh
    from torch.distributed.fsdp import fully_shard

    with torch.no_grad():
        for tensor in model.state_dict().values():
            dist.broadcast(tensor, src=0)
    mesh = init_device_mesh(device.type, (context.world_size,))
    for module in list(model.modules()):
        if isinstance(module, torch.nn.ModuleList):
            for layer in module:
                fully_shard(layer, mesh=mesh)
    fully_shard(model, mesh=mesh)


def _full_options():
    from torch.distributed.checkpoint.state_dict import StateDictOptions

    return StateDictOptions(full_state_dict=True, cpu_offload=True)


def gather_full_state(model: torch.nn.Module, optimizer: torch.optim.Optimizer) -> tuple[dict, dict]:
    """(model state, optimizer state) of a sharded model as full CPU tensors on rank 0 (collective: every rank
    calls it; other ranks get empty dicts). The optimizer state is keyed by parameter name, as in checkpoints."""
    from torch.distributed.checkpoint.state_dict import get_model_state_dict, get_optimizer_state_dict

    options = _full_options()
    return (get_model_state_dict(model, options=options),
            get_optimizer_state_dict(model, optimizer, options=options))


def load_full_state(model: torch.nn.Module, optimizer: torch.optim.Optimizer, model_state: dict,
                    optimizer_state: dict) -> None:
    """Load full (unsharded) model and optimizer states into a sharded model; every rank keeps its shard."""
    from torch.distributed.checkpoint.state_dict import (
        StateDictOptions,
        set_model_state_dict,
        set_optimizer_state_dict,
    )

    options = StateDictOptions(full_state_dict=True)
    set_model_state_dict(model, model_state, options=options)
    set_optimizer_state_dict(model, optimizer, optimizer_state, options=options)
