"""Config files (YAML) with command-line overrides for dataclass settings.

Every field of the dataclass is a key; ``--key value`` overrides it; dict fields take dotted keys
(``--model.hidden_size 64``). An unknown key is an error that lists the closest known keys.
"""

from __future__ import annotations

import dataclasses
import difflib
import os
import types
import typing
from pathlib import Path
from typing import Any, TypeVar

import yaml

from pixel.io import write_text

T = TypeVar("T")

# big_vision's "runlocal": what ``--smoke`` (load_config(..., smoke=True)) changes in any recipe, pretraining
# or fine-tuning, so that it runs in seconds on a CPU (tests, checking an installation or a recipe). Keys a
# recipe does not have are skipped.
SMOKE: dict[str, Any] = {
    "max_steps": 4, "batch_size": 2, "grad_accum_steps": 1, "learning_rate": 1e-3, "warmup_steps": 1,
    "log_every": 1, "eval_every": 2, "save_every": 2, "keep_last": 2,
    "num_workers": 0, "precision": "fp32", "device": "cpu", "progress": False, "tensorboard": False,
    "output_dir": "runs/smoke", "max_seq_length": 32,
    "model_variant": "tiny", "validation_examples": 4, "min_patches": 2,  # pretraining
    "doc_stride": 8, "question_max_length": 16,  # QA windows of a 32-patch strip
}


def unknown_key_error(key: str, known: list[str], where: str) -> ValueError:
    close = difflib.get_close_matches(key, known, n=3, cutoff=0.5)
    hint = f"; did you mean {', '.join(close)}?" if close else f"; known keys: {', '.join(sorted(known))}"
    return ValueError(f"unknown config key {key!r} in {where}{hint}")


def parse_overrides(arguments: list[str]) -> list[tuple[str, str]]:
    """``["--a", "1", "--b=x"]`` -> ``[("a", "1"), ("b", "x")]``; a flag without a value means true."""
    pairs: list[tuple[str, str]] = []
    index = 0
    while index < len(arguments):
        argument = arguments[index]
        if not argument.startswith("--") or len(argument) == 2:
            raise ValueError(f"expected --KEY VALUE, got {argument!r}")
        key = argument[2:]
        if "=" in key:
            key, value = key.split("=", 1)
            index += 1
        elif index + 1 < len(arguments) and not arguments[index + 1].startswith("--"):
            value = arguments[index + 1]
            index += 2
        else:
            value, index = "true", index + 1
        pairs.append((key.replace("-", "_"), value))
    return pairs


def _coerce(value: Any, annotation: Any, key: str) -> Any:
    """Check/convert a YAML or command-line value to the field type (strings from the command line are
    parsed as YAML scalars/lists first, so "3", "1e-4", "true", "[a, b]" work)."""
    if isinstance(value, str) and annotation is not str:
        value = yaml.safe_load(value) if value.strip() else value
    origin = typing.get_origin(annotation)
    args = typing.get_args(annotation)
    if origin in (typing.Union, types.UnionType):
        if value is None and type(None) in args:
            return None
        non_none = [a for a in args if a is not type(None)]
        errors = []
        for candidate in non_none:
            try:
                return _coerce(value, candidate, key)
            except ValueError as err:
                errors.append(str(err))
        raise ValueError(errors[0])
    if origin is list:
        if isinstance(value, str):
            value = [value]
        if not isinstance(value, list | tuple):
            raise ValueError(f"config key {key!r}: expected a list, got {value!r}")
        return [_coerce(v, args[0], key) if args else v for v in value]
    if origin is dict or annotation is dict:
        if not isinstance(value, dict):
            raise ValueError(f"config key {key!r}: expected a mapping, got {value!r}")
        return dict(value)
    if annotation is bool:
        if isinstance(value, bool):
            return value
        raise ValueError(f"config key {key!r}: expected true or false, got {value!r}")
    if annotation is int:
        if isinstance(value, int) and not isinstance(value, bool):
            return value
        if isinstance(value, float) and value.is_integer():
            return int(value)
        raise ValueError(f"config key {key!r}: expected an integer, got {value!r}")
    if annotation is float:
        if isinstance(value, str):  # YAML 1.1 reads "1e-4" (no dot) as a string
            try:
                return float(value)
            except ValueError:
                pass
        if isinstance(value, int | float) and not isinstance(value, bool):
            return float(value)
        raise ValueError(f"config key {key!r}: expected a number, got {value!r}")
    if annotation is str:
        if isinstance(value, str):
            return value
        if isinstance(value, int | float) and not isinstance(value, bool):
            return str(value)
        raise ValueError(f"config key {key!r}: expected a string, got {value!r}")
    return value


def load_config(cls: type[T], path: str | os.PathLike | None = None, overrides: list[tuple[str, str]] = (),
                smoke: bool = False) -> T:
    """Build dataclass ``cls`` from defaults <- YAML file ``path`` <- `SMOKE` (with ``smoke``) <- ``overrides``
    (key, value)."""
    hints = typing.get_type_hints(cls)
    fields = {f.name: f for f in dataclasses.fields(cls)}
    values: dict[str, Any] = {}
    if path is not None:
        path = Path(path)
        if not path.is_file():
            raise FileNotFoundError(f"config file not found: {path}")
        try:
            data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
        except yaml.YAMLError as err:
            raise ValueError(f"config file {path} is not valid YAML: {err}") from None
        if not isinstance(data, dict):
            raise ValueError(f"config file {path} must be a mapping of keys to values")
        for key, value in data.items():
            if key not in fields:
                raise unknown_key_error(key, list(fields), str(path))
            values[key] = _coerce(value, hints[key], key)
    if smoke:
        values.update({key: _coerce(value, hints[key], key) for key, value in SMOKE.items() if key in fields})
    for key, value in overrides:
        head, _, rest = key.partition(".")
        if head not in fields:
            raise unknown_key_error(key, list(fields), "the command line")
        if rest:
            if typing.get_origin(hints[head]) is not dict and hints[head] is not dict:
                raise ValueError(f"config key {head!r} has no sub-keys (got --{key})")
            base = values.get(head)
            if base is None:
                base = fields[head].default_factory() if fields[head].default_factory is not dataclasses.MISSING else {}
            merged = dict(base)
            merged[rest] = yaml.safe_load(value) if value.strip() else value
            values[head] = merged
        else:
            values[head] = _coerce(value, hints[head], key)
    return cls(**values)


def save_config(config: Any, path: str | os.PathLike) -> None:
    """Write a dataclass config as YAML (atomic), so that a run can be reproduced from its output folder."""
    write_text(path, yaml.safe_dump(dataclasses.asdict(config), sort_keys=True))
