"""pixel.resolve: local folders first, repo ids to the Hub, huggingface_hub's errors as clear built-in ones.

No network: hf_hub_download is replaced by a stand-in that serves a local folder or raises the Hub's errors.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from pixel.resolve import is_repo_id, resolve_file

TINY_MODEL = Path(__file__).parent / "data" / "golden" / "model" / "tiny-pixel"


def test_repo_ids_and_paths_are_told_apart():
    for name in ("Team-PIXEL/pixel-base", "owner/name.v2", "a_b/c-d"):
        assert is_repo_id(name), name
    for name in ("./x", "~/x", "/abs/path", "a/b/c", "name", "owner/", "/name", "a b/c", ".hidden/x"):
        assert not is_repo_id(name), name


def test_local_folders_and_files_resolve_without_the_hub(tmp_path, monkeypatch):
    import huggingface_hub

    monkeypatch.setattr(huggingface_hub, "hf_hub_download", lambda *a, **k: pytest.fail("no download expected"))
    (tmp_path / "config.json").write_text("{}")
    (tmp_path / "model.safetensors").write_bytes(b"")
    assert resolve_file(tmp_path, "config.json") == tmp_path / "config.json"
    assert resolve_file(tmp_path / "config.json", "config.json") == tmp_path / "config.json"
    assert resolve_file(tmp_path / "config.json", "model.safetensors") == tmp_path / "model.safetensors"
    with pytest.raises(FileNotFoundError, match=r"no font.ttf in the renderer folder .*font.ttf does not exist"):
        resolve_file(tmp_path, "font.ttf", what="renderer folder")
    with pytest.raises(FileNotFoundError, match="model folder not found: .* does not exist"):
        resolve_file(tmp_path / "not" / "here", "config.json", what="model folder")


def hub_error(cls: type[Exception]) -> Exception:
    """An instance of one of huggingface_hub's errors (some want an HTTP response to be built normally)."""
    error = cls.__new__(cls)
    Exception.__init__(error, "raised by the stand-in Hub")
    return error


@pytest.mark.parametrize(
    ("error_name", "expected", "message"),
    [
        ("LocalEntryNotFoundError", FileNotFoundError, "not in the local cache and the Hub cannot be reached"),
        ("EntryNotFoundError", FileNotFoundError, "has no file config.json"),
        ("RevisionNotFoundError", FileNotFoundError, "no such revision"),
        ("RepositoryNotFoundError", FileNotFoundError, "does not exist or is private"),
        ("HFValidationError", ValueError, "is not a valid repo id or revision"),
        ("HfHubHTTPError", OSError, "could not download config.json"),
    ],
)
def test_hub_errors_become_clear_errors(monkeypatch, error_name, expected, message):
    import huggingface_hub
    import huggingface_hub.utils

    def failing_download(repo_id, filename, revision=None):
        raise hub_error(getattr(huggingface_hub.utils, error_name))

    monkeypatch.setattr(huggingface_hub, "hf_hub_download", failing_download)
    with pytest.raises(expected, match=message) as caught:
        resolve_file("Team-PIXEL/pixel-base", "config.json", revision="v1")
    assert "Team-PIXEL/pixel-base (revision v1)" in str(caught.value)


def fake_hub(monkeypatch, repos: dict[str, Path]) -> list[tuple[str, str, str | None]]:
    """Serve files of local folders as Hub repos; returns the list of downloads asked for."""
    import huggingface_hub
    from huggingface_hub.utils import EntryNotFoundError

    calls: list[tuple[str, str, str | None]] = []

    def download(repo_id: str, filename: str, revision: str | None = None) -> str:
        calls.append((repo_id, filename, revision))
        if not (repos[repo_id] / filename).is_file():
            raise EntryNotFoundError(f"{filename} not found")
        return str(repos[repo_id] / filename)

    monkeypatch.setattr(huggingface_hub, "hf_hub_download", download)
    return calls


def test_a_hub_id_and_a_local_folder_of_the_same_layout_load_the_same(tmp_path, monkeypatch):
    from pixel.model.pixel import PIXELForPreTraining
    from pixel.render.folder import load_renderer
    from pixel.render.pangocairo import PangoCairoTextRenderer

    repo = tmp_path / "pixel-base"
    shutil.copytree(TINY_MODEL, repo)
    PangoCairoTextRenderer(max_seq_length=32).save_pretrained(repo)
    calls = fake_hub(monkeypatch, {"Team-PIXEL/pixel-base": repo})
    from_hub = PIXELForPreTraining.from_pretrained("Team-PIXEL/pixel-base")
    local = PIXELForPreTraining.from_pretrained(repo)
    assert from_hub.config == local.config
    assert all(a.equal(b) for a, b in zip(from_hub.state_dict().values(), local.state_dict().values(), strict=True))
    renderer = load_renderer("Team-PIXEL/pixel-base", revision="v1")
    assert renderer.max_seq_length == 32
    assert (renderer("hub").pixel_values == load_renderer(repo)("hub").pixel_values).all()
    assert calls == [
        ("Team-PIXEL/pixel-base", "config.json", None),
        ("Team-PIXEL/pixel-base", "model.safetensors", None),  # not there: the original's .bin is used
        ("Team-PIXEL/pixel-base", "pytorch_model.bin", None),
        ("Team-PIXEL/pixel-base", "text_renderer_config.json", "v1"),
        ("Team-PIXEL/pixel-base", "NotoSans-Regular.ttf", "v1"),
    ]


def test_a_missing_local_folder_shaped_like_a_repo_id_is_no_such_folder(tmp_path, monkeypatch):
    # `mf/doesnotexist` took ~23 s of Hub retries and then blamed the Hub cache.
    import huggingface_hub

    monkeypatch.setattr(huggingface_hub, "hf_hub_download", lambda *a, **k: pytest.fail("no Hub lookup expected"))
    monkeypatch.chdir(tmp_path)
    (tmp_path / "mf" / "pixel-tiny").mkdir(parents=True)
    with pytest.raises(FileNotFoundError, match=r"no such folder: mf/pixel-tny \(the folder mf exists here but holds "
                                                r"no pixel-tny; did you mean mf/pixel-tiny\?\)"):
        resolve_file("mf/pixel-tny", "config.json", what="model folder")


def test_an_unreachable_hub_fails_at_once_from_the_cache(monkeypatch):
    import huggingface_hub
    import huggingface_hub.utils

    import pixel.resolve

    calls = []

    def cache_only_download(repo_id, filename, revision=None, local_files_only=False):
        calls.append(local_files_only)
        raise hub_error(huggingface_hub.utils.LocalEntryNotFoundError)

    monkeypatch.setattr(pixel.resolve, "hub_reachable", lambda: False)
    monkeypatch.setattr(huggingface_hub, "hf_hub_download", cache_only_download)
    with pytest.raises(FileNotFoundError, match="not in the local cache and the Hub cannot be reached"):
        resolve_file("owner/missing", "config.json")
    assert calls == [True]  # the cache only: no retries against an unreachable Hub


def test_the_connectivity_check_is_one_short_connection(monkeypatch):
    import socket

    from huggingface_hub import constants

    import pixel.resolve

    monkeypatch.undo()  # the real check, with a stand-in socket
    attempts = []

    def refuse(address, timeout):
        attempts.append((address, timeout))
        raise OSError("unreachable")

    monkeypatch.setattr(socket, "create_connection", refuse)
    monkeypatch.setattr(constants, "HF_HUB_OFFLINE", False)
    for name in ("HTTPS_PROXY", "https_proxy", "ALL_PROXY", "all_proxy"):
        monkeypatch.delenv(name, raising=False)
    pixel.resolve.hub_reachable.cache_clear()
    try:
        assert pixel.resolve.hub_reachable() is False and pixel.resolve.hub_reachable() is False
    finally:
        pixel.resolve.hub_reachable.cache_clear()
    assert len(attempts) == 1 and attempts[0][1] <= 3
