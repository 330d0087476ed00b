"""The output folder of a training run: one run per folder, a clear refusal otherwise.

A fresh run (no ``--resume``) into a folder that holds an earlier run would mix the two: its checkpoints deleted
by ``keep_last`` among the older ones, ``metrics.jsonl`` holding both runs, and a later ``--resume`` continuing the
old run. So it is refused, unless ``overwrite`` (``--overwrite_output_dir``) asks to delete the earlier run's files
first. Only files that runs write are deleted (never a data file kept in the same folder).
"""

from __future__ import annotations

import json
import os
import re
import shutil
from collections.abc import Iterable
from pathlib import Path

from pixel.train.checkpoint import CHECKPOINT_PATTERN, list_checkpoints, remove_stale_temporaries
from pixel.train.metrics import METRICS_FILE

RENDERER_CONFIG = "text_renderer_config.json"
# Top-level entries that runs write: checkpoints, the best model, logs, and a fine-tuned model folder's files.
_RUN_FOLDERS = ("best", "tensorboard")
_RUN_FILES = (METRICS_FILE, "results.json", "config.json", "model.safetensors", RENDERER_CONFIG)
_PREDICTIONS = re.compile(r"^predictions_.*\.jsonl$")
# Entries that show that a folder holds a run.
_RUN_MARKERS = (METRICS_FILE, "best")


def prepare_output_dir(output_dir: str | os.PathLike, run_config: str, resume: str | os.PathLike | None = None,
                       overwrite: bool = False, inputs: Iterable[str | os.PathLike | None] = ()) -> Path:
    """Make ``output_dir`` ready for a run and return it (call on the main process only, before writing).

    run_config: the file name the run saves its settings under (``pretrain_config.yaml``), one more sign of a run.
    resume: the checkpoint the run resumes from (None: a fresh run). inputs: paths the run reads (model,
    renderer, checkpoint), which ``overwrite`` must not delete. Stale temporaries of killed saves are removed.
    Raises ValueError for a path that is a file (or lies under one), for a fresh run into a folder holding a run
    without ``overwrite``, and for ``overwrite`` with ``resume`` or over one of ``inputs``.
    """
    folder = Path(output_dir).expanduser()
    _check_is_folder(folder)
    if resume is not None and overwrite:
        raise ValueError("--resume continues the run in output_dir and --overwrite_output_dir deletes it: "
                         "give one of them")
    if folder.is_dir() and resume is None:
        earlier = _run_entries(folder, run_config)
        if earlier and not overwrite:
            checkpoints = [p.name for p in list_checkpoints(folder)]
            held = (f"checkpoints {', '.join(checkpoints[-3:])}" if checkpoints else
                    "the logs of a run without checkpoints (killed before its first save?)")
            raise ValueError(
                f"output_dir {folder} already holds a run ({held}); a fresh run there would mix with it. "
                "Continue it with --resume, start over with --overwrite_output_dir (deletes the earlier run's "
                "files), or give a new --output_dir")
        if earlier:
            _refuse_to_delete_inputs(folder, earlier, inputs)
            for entry in earlier:
                shutil.rmtree(entry) if entry.is_dir() and not entry.is_symlink() else entry.unlink()
    folder.mkdir(parents=True, exist_ok=True)
    remove_stale_temporaries(folder)
    return folder


def _check_is_folder(folder: Path) -> None:
    """ValueError when ``folder`` or the first existing folder above it is a file."""
    for path in (folder, *folder.parents):
        if path.exists():
            if not path.is_dir():
                where = "is a file" if path == folder else f"lies under {path}, which is a file"
                raise ValueError(f"output_dir {folder} {where}; give the path of a folder (new or a run's)")
            return


def _run_entries(folder: Path, run_config: str) -> list[Path]:
    """The entries of ``folder`` that an earlier run wrote (empty when it holds no run)."""
    entries = [p for p in folder.iterdir()
               if CHECKPOINT_PATTERN.match(p.name) and p.is_dir() or p.name in (run_config, *_RUN_MARKERS)]
    if not entries:
        return []
    names = {*_RUN_FOLDERS, *_RUN_FILES, run_config, _renderer_font(folder)}
    return sorted({*entries, *(p for p in folder.iterdir() if p.name in names or _PREDICTIONS.match(p.name))})


def _renderer_font(folder: Path) -> str | None:
    """The font file that a saved renderer config in ``folder`` names (saved beside it)."""
    try:
        font = json.loads((folder / RENDERER_CONFIG).read_text(encoding="utf-8")).get("font_file")
    except (OSError, ValueError, AttributeError):
        return None
    return Path(str(font)).name if font else None


def _refuse_to_delete_inputs(folder: Path, entries: list[Path], inputs: Iterable[str | os.PathLike | None]) -> None:
    for given in inputs:
        if given is None or not Path(given).exists():
            continue
        path = Path(given).resolve()
        for entry in entries:
            if path == entry.resolve() or entry.resolve() in path.parents:
                raise ValueError(f"--overwrite_output_dir would delete {entry}, which this run reads ({given}); "
                                 f"give another --output_dir than {folder}")
