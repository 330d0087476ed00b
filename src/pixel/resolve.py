"""Find one file of a saved folder: in a local folder, or in a Hugging Face Hub repo (downloaded and cached).

The one place that tells a local path from a Hub repo id and that turns huggingface_hub's errors into a
FileNotFoundError or ValueError naming what is missing. A path shaped like a repo id whose first part is a local
folder is a missing folder, not a Hub repo; an unreachable Hub is found out once per process, quickly, and then
only cached files are used. Model configs, model weights and renderer folders all resolve their files here. A
leaf module: it imports nothing else from pixel, and huggingface_hub only when a repo id is given.
"""

from __future__ import annotations

import contextlib
import difflib
import functools
import os
import re
import socket
import urllib.parse
from collections.abc import Iterator
from pathlib import Path

# "owner/name": two parts of letters, digits, "_", "-", "." that start with a letter or digit (so "./x", "~/x",
# "/abs/path" and "a/b/c" are paths, never repo ids).
_REPO_ID = re.compile(r"[A-Za-z0-9][\w.-]*/[A-Za-z0-9][\w.-]*")


def is_repo_id(name: str | os.PathLike[str]) -> bool:
    """True when ``name`` has the form of a Hub repo id, ``owner/name`` (e.g. "Team-PIXEL/pixel-base")."""
    return _REPO_ID.fullmatch(os.fspath(name)) is not None


def resolve_file(
    location: str | os.PathLike[str], filename: str, revision: str | None = None, what: str = "folder"
) -> Path:
    """Local path of ``filename`` of the saved folder ``location``.

    location: a local folder (or a file in it), else a Hub repo id whose file is downloaded at ``revision``
    (branch, tag or commit; None = main) into huggingface_hub's cache. ``what`` names the folder in errors
    ("model folder", "renderer folder").
    Raises FileNotFoundError naming what is missing (also offline, for a file that is not cached yet),
    ValueError for a repo id or revision the Hub refuses, OSError for other download failures.
    """
    path = Path(location).expanduser()
    if path.is_file():
        if path.name == filename:
            return path
        path = path.parent
    if path.is_dir():
        candidate = path / filename
        if not candidate.is_file():
            raise FileNotFoundError(f"no {filename} in the {what} {path} ({candidate} does not exist)")
        return candidate
    return _download(_repo_id(location, what), filename, revision, what)


def list_folder(location: str | os.PathLike[str], revision: str | None = None, what: str = "folder") -> list[str]:
    """Names of the files directly in the saved folder ``location`` (a local folder or a Hub repo id at
    ``revision``), sorted. Errors as :func:`resolve_file`."""
    path = Path(location).expanduser()
    if path.is_dir():
        return sorted(entry.name for entry in path.iterdir() if entry.is_file())
    name = _repo_id(location, what)
    import huggingface_hub

    if not hub_reachable():
        raise FileNotFoundError(f"cannot list the files of the Hub repo {name}: the Hub is not reachable (offline)")
    with _hub_errors(name, "the file list", revision, what):
        return sorted(f for f in huggingface_hub.list_repo_files(name, revision=revision) if "/" not in f)


def _repo_id(location: str | os.PathLike[str], what: str) -> str:
    """``location`` as a Hub repo id; FileNotFoundError when it is neither an existing path nor a repo id."""
    name = os.fspath(location)
    if not is_repo_id(name):
        raise FileNotFoundError(
            f"{what} not found: {name} does not exist (and it is not a Hub repo id like 'owner/name')"
        )
    path = Path(name).expanduser()
    if path.parent.is_dir():  # "owner/" is a local folder: a mistyped local path, not a Hub repo
        near = difflib.get_close_matches(path.name, [p.name for p in path.parent.iterdir() if p.is_dir()], n=3)
        hint = f"; did you mean {', '.join(str(path.parent / n) for n in near)}?" if near else ""
        raise FileNotFoundError(
            f"no such folder: {name} (the folder {path.parent} exists here but holds no {path.name}{hint}); a Hub "
            f"repo of that name is not looked up while a local folder {path.parent} exists"
        )
    return name


@functools.cache
def hub_reachable() -> bool:
    """Whether the Hub accepts connections: one check per process, at most 3 s (unreachable, huggingface_hub
    retries every file for ~20 s). Offline mode (HF_HUB_OFFLINE) is unreachable; behind a proxy the proxy
    decides."""
    from huggingface_hub import constants

    if constants.HF_HUB_OFFLINE:
        return False
    if any(os.environ.get(name) for name in ("HTTPS_PROXY", "https_proxy", "ALL_PROXY", "all_proxy")):
        return True
    endpoint = urllib.parse.urlsplit(constants.ENDPOINT)
    port = endpoint.port or (443 if endpoint.scheme == "https" else 80)
    try:
        with socket.create_connection((endpoint.hostname, port), timeout=3):
            return True
    except OSError:
        return False


def _download(repo_id: str, filename: str, revision: str | None, what: str) -> Path:
    """hf_hub_download with its errors mapped to FileNotFoundError / ValueError / OSError."""
    import huggingface_hub

    offline = {} if hub_reachable() else {"local_files_only": True}  # a cached file, or at once the error
    with _hub_errors(repo_id, filename, revision, what):
        return Path(huggingface_hub.hf_hub_download(repo_id, filename, revision=revision, **offline))


@contextlib.contextmanager
def _hub_errors(repo_id: str, filename: str, revision: str | None, what: str) -> Iterator[None]:
    """huggingface_hub's errors -> FileNotFoundError / ValueError / OSError naming what is missing."""
    from huggingface_hub import utils as hub

    # huggingface_hub's error -> ours, most specific first (LocalEntryNotFoundError is an EntryNotFoundError,
    # every other one an HfHubHTTPError).
    mapping: tuple[tuple[type[Exception], type[Exception], str], ...] = (
        (hub.LocalEntryNotFoundError, FileNotFoundError, "{filename} of {where} is not in the local cache and the "
         "Hub cannot be reached: connect once to download it, or pass a local {what}"),
        (hub.EntryNotFoundError, FileNotFoundError, "{where} has no file {filename}: it is not a complete PIXEL {what}"),
        (hub.RevisionNotFoundError, FileNotFoundError, "{where}: no such revision (branch, tag or commit)"),
        (hub.RepositoryNotFoundError, FileNotFoundError, "{where} does not exist or is private (log in to read "
         "private repos), and there is no local {what} {repo_id}"),
        (hub.HFValidationError, ValueError, "{where} is not a valid repo id or revision: {err}"),
        (hub.HfHubHTTPError, OSError, "could not download {filename} of {where}: {err}"),
    )
    try:
        yield
    except tuple(hub_error for hub_error, _, _ in mapping) as err:
        ours, message = next((ours, message) for hub_error, ours, message in mapping if isinstance(err, hub_error))
        where = f"Hub repo {repo_id} (revision {revision or 'main'})"
        raise ours(message.format(filename=filename, where=where, what=what, repo_id=repo_id, err=err)) from err
