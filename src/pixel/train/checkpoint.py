"""Checkpoints that cannot be lost: atomic folders, resumable state, no pickled code.

Folder ``<output_dir>/checkpoint-<step>/``:
  config.json, model.safetensors  the model (``from_pretrained`` loads the folder; ``save_pretrained`` of the model)
  text_renderer_config.json, font  the renderer (written by the task's ``save_extras``)
  optimizer.safetensors            optimizer tensors; param groups (with parameter names) in its metadata
  rng_state.safetensors            torch CPU/CUDA generator states, one set per rank
  trainer_state.json               step, data position, scheduler, scaler, Python/NumPy RNG, metric history
The folder is built as a ``.tmp-*`` sibling and renamed when complete (``pixel.io.atomic_folder``), so a killed
process leaves the previous checkpoints alone and at most a ``.tmp-*`` folder that resume ignores (and that the
next start or save deletes).
"""

from __future__ import annotations

import json
import os
import random
import re
import shutil
from pathlib import Path
from typing import Any

import numpy as np
import torch
from safetensors import SafetensorError
from safetensors.torch import load_file, save_file
from torch import nn

from pixel.io import atomic_folder, atomic_path, write_json

CHECKPOINT_PATTERN = re.compile(r"^checkpoint-(\d+)$")
# What a killed save leaves in output_dir: pixel.io.atomic_folder's .tmp-/.old- folders of a checkpoint or of
# the best model, and atomic_path's ".<name>.<random>.tmp" files.
_STALE_TEMPORARY = re.compile(r"^\.(?:(?:tmp|old)-(?:checkpoint-\d+|best)-.+|.+\.[a-z0-9_]{8}\.tmp)$")
TRAINER_STATE = "trainer_state.json"
MODEL_WEIGHTS = "model.safetensors"
OPTIMIZER_STATE = "optimizer.safetensors"
RNG_STATE = "rng_state.safetensors"


class CheckpointError(RuntimeError):
    """A checkpoint that cannot be resumed from (corrupt, incomplete or made for another model)."""


def list_checkpoints(output_dir: str | os.PathLike) -> list[Path]:
    """Complete checkpoint folders of ``output_dir``, oldest step first (temporary folders are ignored)."""
    root = Path(output_dir)
    if not root.is_dir():
        return []
    found = [(int(m.group(1)), p) for p in root.iterdir() if p.is_dir() and (m := CHECKPOINT_PATTERN.match(p.name))]
    return [p for _, p in sorted(found)]


def remove_stale_temporaries(output_dir: str | os.PathLike) -> None:
    """Delete what killed saves left in ``output_dir`` (resume ignores them; each can be a checkpoint's size).
    Call where no save of this run is in progress: at start-up and after a save."""
    root = Path(output_dir)
    if not root.is_dir():
        return
    for entry in root.iterdir():
        if _STALE_TEMPORARY.match(entry.name):
            shutil.rmtree(entry, ignore_errors=True) if entry.is_dir() else entry.unlink(missing_ok=True)


def latest_checkpoint(output_dir: str | os.PathLike) -> Path | None:
    checkpoints = list_checkpoints(output_dir)
    return checkpoints[-1] if checkpoints else None


def resolve_resume(resume: str | os.PathLike | None, output_dir: str | os.PathLike) -> Path | None:
    """The checkpoint folder a ``--resume`` asks for: None (no resume), "latest" (the newest complete
    checkpoint of ``output_dir``) or a folder. FileNotFoundError when there is none."""
    if not resume:
        return None
    folder = latest_checkpoint(output_dir) if resume == "latest" else Path(resume)
    if folder is None:
        raise FileNotFoundError(f"--resume: no checkpoint-* folder in {output_dir}; start without --resume or "
                                "pass the checkpoint folder")
    if not folder.is_dir():
        raise FileNotFoundError(f"--resume: checkpoint folder not found: {folder}; start without --resume or "
                                "pass the checkpoint folder")
    return folder


# ---------------------------------------------------------------------------------------------- saving

def save_model_weights(model: nn.Module, directory: Path) -> None:
    """config.json + model.safetensors through the model's own ``save_pretrained`` when it has one."""
    if hasattr(model, "save_pretrained"):
        model.save_pretrained(directory)
        return
    state = {name: tensor.detach().contiguous().cpu() for name, tensor in model.state_dict().items()}
    save_tensors(state, directory / MODEL_WEIGHTS)


def save_tensors(tensors: dict[str, torch.Tensor], path: Path, metadata: dict[str, str] | None = None) -> None:
    """A safetensors file written atomically with the mode of every other file (safetensors' own is 0600)."""
    with atomic_path(path) as temporary:
        save_file(tensors, str(temporary), metadata=metadata)


def _named_groups(model: nn.Module, optimizer: torch.optim.Optimizer) -> list[list[tuple[str, torch.Tensor]]]:
    """(name, parameter) per param group: names recorded by build_optimizer, else looked up in the model."""
    names = getattr(optimizer, "param_names", None)
    if names is None:
        lookup = {id(p): n for n, p in model.named_parameters()}
        names = [[lookup[id(p)] for p in group["params"]] for group in optimizer.param_groups]
    return [list(zip(group_names, group["params"], strict=True))
            for group_names, group in zip(names, optimizer.param_groups, strict=True)]


def full_optimizer_state(model: nn.Module, optimizer: torch.optim.Optimizer) -> dict[str, Any]:
    """The optimizer state with parameter names instead of indices (``state``: name -> values,
    ``param_groups[i]["params"]``: names), so a checkpoint does not depend on parameter order."""
    state: dict[str, dict[str, Any]] = {}
    groups = []
    for group, named in zip(optimizer.param_groups, _named_groups(model, optimizer), strict=True):
        groups.append({**{k: v for k, v in group.items() if k != "params"}, "params": [n for n, _ in named]})
        for name, param in named:
            values = optimizer.state.get(param)
            if values:
                state[name] = dict(values)
    return {"state": state, "param_groups": groups}


def optimizer_to_tensors(state: dict[str, Any]) -> tuple[dict[str, torch.Tensor], dict[str, str]]:
    """Flatten an optimizer state dict ("<parameter name>.<state name>" keys) to safetensors tensors +
    string metadata (param groups and non-tensor values as JSON)."""
    tensors: dict[str, torch.Tensor] = {}
    scalars: dict[str, Any] = {}
    for name, values in state["state"].items():
        for key, value in values.items():
            if isinstance(value, torch.Tensor):
                tensors[f"{name}.{key}"] = value.detach().contiguous().cpu()
            else:
                scalars[f"{name}.{key}"] = value
    metadata = {"param_groups": json.dumps(state["param_groups"]), "scalars": json.dumps(scalars)}
    return tensors, metadata


def save_checkpoint(output_dir: str | os.PathLike, step: int, model: nn.Module, optimizer_state: dict[str, Any],
                    trainer_state: dict[str, Any], rng_states: list[dict[str, torch.Tensor]],
                    save_extras=None, keep_last: int | None = None) -> Path:
    """Write ``checkpoint-<step>`` atomically and keep the newest ``keep_last`` (None = all). Returns the folder.

    optimizer_state: ``full_optimizer_state(model, optimizer)``. trainer_state: JSON-serialisable (step, data position,
    scheduler/scaler state, metric history).
    rng_states: per rank, the tensors of ``capture_rng_state()``. save_extras(folder): renderer, pictures.
    """
    root = Path(output_dir)
    final = root / f"checkpoint-{step}"
    with atomic_folder(final) as folder:
        save_model_weights(model, folder)
        tensors, metadata = optimizer_to_tensors(optimizer_state)
        save_tensors(tensors, folder / OPTIMIZER_STATE, metadata=metadata)
        rng_tensors = {f"rank{rank}.{name}": t for rank, states in enumerate(rng_states) for name, t in states.items()}
        save_tensors(rng_tensors, folder / RNG_STATE)
        if save_extras is not None:
            save_extras(folder)
        write_json(folder / TRAINER_STATE, trainer_state)
    if keep_last is not None and keep_last > 0:
        for stale in list_checkpoints(root)[:-keep_last]:
            shutil.rmtree(stale, ignore_errors=True)
    remove_stale_temporaries(root)
    return final


# ---------------------------------------------------------------------------------------------- RNG

def capture_rng_state() -> tuple[dict[str, torch.Tensor], dict[str, Any]]:
    """(tensors: torch CPU + CUDA generator states, json: Python and NumPy global generator states)."""
    tensors = {"torch_cpu": torch.get_rng_state()}
    if torch.cuda.is_available() and torch.cuda.is_initialized():
        tensors["torch_cuda"] = torch.cuda.get_rng_state()
    py_version, py_state, py_gauss = random.getstate()
    np_name, np_keys, np_pos, np_has_gauss, np_gauss = np.random.get_state()
    json_state = {"python": [py_version, list(py_state), py_gauss],
                  "numpy": [np_name, np_keys.tolist(), int(np_pos), int(np_has_gauss), float(np_gauss)]}
    return tensors, json_state


def restore_rng_state(tensors: dict[str, torch.Tensor], json_state: dict[str, Any]) -> None:
    torch.set_rng_state(tensors["torch_cpu"])
    if "torch_cuda" in tensors and torch.cuda.is_available():
        torch.cuda.set_rng_state(tensors["torch_cuda"])
    py_version, py_state, py_gauss = json_state["python"]
    random.setstate((py_version, tuple(py_state), py_gauss))
    np_name, np_keys, np_pos, np_has_gauss, np_gauss = json_state["numpy"]
    np.random.set_state((np_name, np.asarray(np_keys, dtype=np.uint32), np_pos, np_has_gauss, np_gauss))


# ---------------------------------------------------------------------------------------------- loading

def _load_tensors(path: Path) -> dict[str, torch.Tensor]:
    if not path.is_file():
        raise CheckpointError(f"checkpoint file missing: {path} (incomplete checkpoint; resume from an older one)")
    try:
        return load_file(str(path))
    except (SafetensorError, OSError, ValueError) as err:
        raise CheckpointError(f"corrupt checkpoint file {path}: {err}; resume from an older checkpoint") from None


def read_trainer_state(checkpoint: str | os.PathLike) -> dict[str, Any]:
    path = Path(checkpoint) / TRAINER_STATE
    if not path.is_file():
        raise CheckpointError(f"checkpoint file missing: {path} (not a training checkpoint, or incomplete)")
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (json.JSONDecodeError, UnicodeDecodeError) as err:
        raise CheckpointError(f"corrupt checkpoint file {path}: {err}; resume from an older checkpoint") from None


def load_model_weights(model: nn.Module, checkpoint: str | os.PathLike) -> None:
    """Load model.safetensors strictly into ``model``; any missing/extra/mis-shaped key is a CheckpointError."""
    model.load_state_dict(read_model_weights(model, checkpoint), strict=True)


def read_model_weights(model: nn.Module, checkpoint: str | os.PathLike) -> dict[str, torch.Tensor]:
    """model.safetensors, checked against ``model`` (keys and full shapes, also of a sharded model)."""
    path = Path(checkpoint) / MODEL_WEIGHTS
    state = _load_tensors(path)
    expected = model.state_dict()
    missing = sorted(set(expected) - set(state))
    unexpected = sorted(set(state) - set(expected))
    shapes = [f"{k}: {tuple(state[k].shape)} vs model {tuple(v.shape)}" for k, v in expected.items()
              if k in state and state[k].shape != v.shape]
    if missing or unexpected or shapes:
        raise CheckpointError(f"{path} does not fit this model (missing {missing[:5]}, unexpected "
                              f"{unexpected[:5]}, shapes {shapes[:5]}); check the model settings of the run")
    return state


_IMPLEMENTATION_FLAGS = ("fused", "foreach", "capturable", "differentiable")


def load_optimizer_state(model: nn.Module, optimizer: torch.optim.Optimizer, checkpoint: str | os.PathLike) -> None:
    saved = read_optimizer_state(model, optimizer, checkpoint)
    named = _named_groups(model, optimizer)
    for group, saved_group, pairs in zip(optimizer.param_groups, saved["param_groups"], named, strict=True):
        # Hyperparameters come from the checkpoint; how the update is computed (fused...) stays this run's.
        group.update({k: v for k, v in saved_group.items() if k not in ("params", *_IMPLEMENTATION_FLAGS)})
        for name, param in pairs:
            if name in saved["state"]:
                optimizer.state[param] = {k: _like(v, param) for k, v in saved["state"][name].items()}


def read_optimizer_state(model: nn.Module, optimizer: torch.optim.Optimizer,
                         checkpoint: str | os.PathLike) -> dict[str, Any]:
    """optimizer.safetensors as ``full_optimizer_state`` returns it (CPU tensors), checked against the
    parameter names of ``optimizer``."""
    path = Path(checkpoint) / OPTIMIZER_STATE
    tensors = _load_tensors(path)
    try:
        from safetensors import safe_open

        with safe_open(str(path), framework="pt") as handle:
            metadata = handle.metadata() or {}
        param_groups = json.loads(metadata["param_groups"])
        scalars = json.loads(metadata.get("scalars", "{}"))
    except (KeyError, json.JSONDecodeError) as err:
        raise CheckpointError(f"corrupt checkpoint file {path}: no readable param groups ({err})") from None
    named = _named_groups(model, optimizer)
    if [g.get("params") for g in param_groups] != [[n for n, _ in group] for group in named]:
        raise CheckpointError(f"{path} was saved for other parameters than this model has; "
                              "check the model settings of the run")
    state: dict[str, dict[str, Any]] = {}
    for key, value in [*tensors.items(), *scalars.items()]:
        name, entry = key.rsplit(".", 1)
        state.setdefault(name, {})[entry] = value
    # Every parameter with a state has the same entries (AdamW: step, exp_avg, exp_avg_sq); a missing one would
    # surface as a KeyError inside optimizer.step().
    entries = set().union(*state.values()) if state else set()
    for name, values in state.items():
        if set(values) != entries:
            raise CheckpointError(f"corrupt checkpoint file {path}: the optimizer state of {name} lacks "
                                  f"{', '.join(sorted(entries - set(values)))}; resume from an older checkpoint")
    groups = [{k: (tuple(v) if isinstance(v, list) and k != "params" else v) for k, v in saved.items()}
              for saved in param_groups]
    return {"state": state, "param_groups": groups}


def _like(value: Any, param: torch.Tensor) -> Any:
    """A saved optimizer value on the device of ``param`` (AdamW's scalar step counter stays on the CPU)."""
    if not isinstance(value, torch.Tensor) or value.ndim == 0:
        return value
    return value.to(param.device)


def load_rng_state(checkpoint: str | os.PathLike, rank: int) -> dict[str, torch.Tensor] | None:
    """This rank's torch generator states, or None when the checkpoint was written by fewer ranks."""
    tensors = _load_tensors(Path(checkpoint) / RNG_STATE)
    prefix = f"rank{rank}."
    mine = {k[len(prefix):]: v for k, v in tensors.items() if k.startswith(prefix)}
    return mine or None
