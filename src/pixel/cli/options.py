"""Shared argument handling of the training commands."""

from __future__ import annotations

import argparse


def collect_overrides(parser: argparse.ArgumentParser) -> None:
    """Let ``parser`` accept any ``--KEY VALUE`` it does not define, collected in ``args.overrides``.

    Config keys are not argparse options (there are many, and dict keys are open): the command checks them
    against its config class, which names close matches for a typo.
    """
    original = parser.parse_known_args

    def parse_known_args(args=None, namespace=None):
        namespace, extras = original(args, namespace)
        namespace.overrides = list(getattr(namespace, "overrides", None) or []) + extras
        return namespace, []

    parser.parse_known_args = parse_known_args  # type: ignore[method-assign]
