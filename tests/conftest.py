"""Shared by every test: no test reaches the network."""

from __future__ import annotations

import pytest


@pytest.fixture(autouse=True)
def _no_hub_connectivity_check(monkeypatch):
    """pixel.resolve checks once whether the Hub is reachable; tests stand in a fake Hub (or none) instead."""
    import pixel.resolve

    monkeypatch.setattr(pixel.resolve, "hub_reachable", lambda: True)
