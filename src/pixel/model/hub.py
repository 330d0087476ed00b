"""Loading and saving checkpoints: config.json + model.safetensors (ours) or pytorch_model.bin (the original's).

`load_pretrained` reads a local folder or a Hugging Face Hub repo, adapts the `vit.` prefix in both directions,
drops what the model does not use (decoder weights when a head loads a pretraining checkpoint, keys listed in
the class's `_keys_to_ignore_on_load`), reports missing and unused keys in one warning and refuses shape
mismatches. Nothing is unpickled beyond tensors (`torch.load(weights_only=True)`).
"""

from __future__ import annotations

import inspect
import logging
import os
import re
from collections import Counter
from pathlib import Path
from typing import Any

import torch
from torch import nn

from pixel.io import atomic_path
from pixel.model.config import PIXELConfig
from pixel.model.resize import resize_position_embeddings
from pixel.resolve import resolve_file

logger = logging.getLogger(__name__)

SAFETENSORS_NAME = "model.safetensors"
PYTORCH_NAME = "pytorch_model.bin"
MODEL_FOLDER = "model folder"


def resolve_weights(path_or_hub_id: str | os.PathLike[str], revision: str | None = None) -> Path:
    """model.safetensors if present, else the original's pytorch_model.bin."""
    try:
        return resolve_file(path_or_hub_id, SAFETENSORS_NAME, revision, MODEL_FOLDER)
    except FileNotFoundError:
        pass  # the original checkpoints only have pytorch_model.bin
    try:
        return resolve_file(path_or_hub_id, PYTORCH_NAME, revision, MODEL_FOLDER)
    except FileNotFoundError as err:
        raise FileNotFoundError(
            f"{os.fspath(path_or_hub_id)} has neither {SAFETENSORS_NAME} nor {PYTORCH_NAME} ({err})"
        ) from None


def load_state_dict_file(path: str | os.PathLike[str]) -> dict[str, torch.Tensor]:
    """Tensors of a .safetensors file, or of a torch pickle loaded with weights_only=True (no code runs).
    ValueError naming the file when it is corrupt, truncated or holds more than tensors."""
    import pickle

    path = os.fspath(path)
    if path.endswith(".safetensors"):
        from safetensors import SafetensorError
        from safetensors.torch import load_file

        try:
            return load_file(path)
        except (SafetensorError, OSError) as err:
            raise ValueError(f"the weights file {path} is corrupt or truncated ({err}); download or save the "
                             "model again") from None
    try:
        state = torch.load(path, map_location="cpu", weights_only=True)
    except pickle.UnpicklingError as err:
        # torch's message suggests weights_only=False, the unsafe path: keep only what the pickle calls.
        called = re.search(r"GLOBAL\s+([\w.]+)", str(err))
        reason = f"it would call {called.group(1)}" if called else "objects other than tensors"
        raise ValueError(f"{path} is not a loadable tensor-only checkpoint: it holds pickled code ({reason}), "
                         "which pixel never runs; use the model's model.safetensors instead") from None
    except Exception as err:
        raise ValueError(f"{path} is not a loadable tensor-only checkpoint (corrupt or truncated?): {err}") from None
    if not isinstance(state, dict) or not all(isinstance(v, torch.Tensor) for v in state.values()):
        raise ValueError(f"{path} does not hold a flat state dict of tensors")
    return state


def match_prefix(
    state: dict[str, torch.Tensor], model_keys: set[str], prefix: str
) -> dict[str, torch.Tensor]:
    """Add or strip `prefix.` so that an encoder-only checkpoint fits a head and a head's fits an encoder."""
    dotted = prefix + "."
    model_prefixed = any(k.startswith(dotted) for k in model_keys)
    state_prefixed = any(k.startswith(dotted) for k in state)
    if model_prefixed and not state_prefixed:
        return {(dotted + k if dotted + k in model_keys else k): v for k, v in state.items()}
    if state_prefixed and not model_prefixed:
        return {(k[len(dotted) :] if k.startswith(dotted) else k): v for k, v in state.items()}
    return state


def _summarise(keys: list[str]) -> str:
    """Short list of keys: groups of more than 3 keys under one top-level name become 'name.* (N tensors)'."""
    groups = Counter(k.split(".")[0] for k in keys)
    parts: list[str] = []
    for top, count in groups.items():
        if count > 3:
            parts.append(f"{top}.* ({count} tensors)")
        else:
            parts.extend(k for k in keys if k.split(".")[0] == top)
    return ", ".join(parts)


# Config fields that the weights' shapes give away: (field, key suffix, dimension).
_SIZE_FIELDS = (
    ("hidden_size", "embeddings.patch_embeddings.projection.weight", 0),
    ("num_channels", "embeddings.patch_embeddings.projection.weight", 1),
    ("patch_size", "embeddings.patch_embeddings.projection.weight", 2),
    ("intermediate_size", "encoder.layer.0.intermediate.dense.weight", 0),
    ("decoder_hidden_size", "decoder.decoder_embed.weight", 0),
    ("decoder_intermediate_size", "decoder.decoder_layers.0.intermediate.dense.weight", 0),
)


def _explain_shapes(state: dict[str, torch.Tensor], config: PIXELConfig) -> str:
    """The config fields that disagree with the weights, said as what to fix."""
    def size(suffix: str, dim: int) -> int | None:
        key = next((k for k in state if k == suffix or k.endswith("." + suffix)), None)
        return int(state[key].shape[dim]) if key is not None and state[key].dim() > dim else None

    wrong = [f"{field}={getattr(config, field)} but the weights have {found}" for field, suffix, dim in _SIZE_FIELDS
             if (found := size(suffix, dim)) is not None and found != getattr(config, field)]
    if wrong:
        return f"the config has {'; '.join(wrong)}: fix config.json (or the overrides given)"
    positions = size("embeddings.position_embeddings", 1)
    if positions is not None and positions - 1 != config.num_patches:
        return (f"the weights are for {positions - 1} patches, config image_size {config.image_size} for "
                f"{config.num_patches}: pass max_seq_length={positions - 1} or fix config image_size")
    return "check the config.json of the folder against its weights"


def load_state_into(model: nn.Module, state: dict[str, torch.Tensor], source: str) -> None:
    """Copy `state` into `model` (a PIXELPreTrainedModel); one warning for missing/unused keys; ValueError on
    any shape mismatch."""
    own = model.state_dict()
    state = match_prefix(state, set(own), model.base_model_prefix)
    state = {k: v for k, v in state.items() if k in own or not model.ignores_key(k)}
    mismatched = [
        f"{k}: checkpoint {list(v.shape)} vs model {list(own[k].shape)}"
        for k, v in state.items()
        if k in own and v.shape != own[k].shape
    ]
    if mismatched:
        raise ValueError(
            f"cannot load {source} into {type(model).__name__}: {len(mismatched)} tensors do not fit, e.g. "
            + "; ".join(mismatched[:3])
            + f". {_explain_shapes(state, model.config)}"
        )
    missing = [k for k in own if k not in state]
    if missing and getattr(model, "requires_every_weight", False):  # a model used as it is, never trained
        raise ValueError(f"{source} holds no complete {type(model).__name__}: it lacks {_summarise(missing)}")
    unused = [k for k in state if k not in own]
    model.load_state_dict({k: v for k, v in state.items() if k in own}, strict=False)
    if missing or unused:
        lines = [f"Loaded {type(model).__name__} from {source}."]
        if missing:
            lines.append(f"Newly initialised (not in the checkpoint; train them): {_summarise(missing)}.")
        if unused:
            lines.append(f"Unused checkpoint weights (dropped): {_summarise(unused)}.")
        logger.warning(" ".join(lines))


def load_pretrained(
    cls: type[nn.Module],
    path_or_hub_id: str | os.PathLike[str],
    revision: str | None = None,
    max_seq_length: int | None = None,
    **kwargs: Any,
) -> Any:
    """Build `cls` (a PIXELPreTrainedModel class) from a saved folder or Hub repo and load its weights; returns
    the model in eval mode.

    kwargs naming parameters of `cls.__init__` (e.g. pooling_mode) go to the constructor, the others override
    config fields. `max_seq_length` resizes the position embeddings (see `pixel.model.resize`).
    """
    parameters = inspect.signature(cls.__init__).parameters
    constructor_kwargs = {
        k: kwargs.pop(k) for k in list(kwargs) if k in parameters and k not in ("self", "config")
    }
    config = PIXELConfig.from_pretrained(path_or_hub_id, revision=revision, **kwargs)
    weights = resolve_weights(path_or_hub_id, revision)
    state = load_state_dict_file(weights)
    if max_seq_length is not None:
        state = resize_position_embeddings(state, max_seq_length)
        config.image_size = [config.patch_size, config.patch_size * max_seq_length]
    model = cls(config, **constructor_kwargs)
    load_state_into(model, state, source=os.fspath(weights))
    return model.eval()


def _unshared(state: dict[str, torch.Tensor]) -> dict[str, torch.Tensor]:
    """Contiguous CPU tensors, cloning any that share storage with an earlier one (safetensors refuses aliases)."""
    seen: set[int] = set()
    out: dict[str, torch.Tensor] = {}
    for key, tensor in state.items():
        tensor = tensor.detach().cpu().contiguous()
        pointer = tensor.untyped_storage().data_ptr()
        out[key] = tensor.clone() if pointer in seen else tensor
        seen.add(pointer)
    return out


def save_pretrained(model: nn.Module, save_directory: str | os.PathLike[str]) -> None:
    """Write config.json and model.safetensors into `save_directory`, each through a temp file + os.replace."""
    from safetensors.torch import save_file

    directory = os.fspath(save_directory)
    os.makedirs(directory, exist_ok=True)
    model.config.architectures = [type(model).__name__]
    with atomic_path(os.path.join(directory, SAFETENSORS_NAME)) as temporary:
        save_file(_unshared(model.state_dict()), str(temporary), metadata={"format": "pt"})
    model.config.save_pretrained(directory)
