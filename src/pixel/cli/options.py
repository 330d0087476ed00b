"""Shared argument handling of the training commands."""

from __future__ import annotations

import argparse


def add_run_arguments(parser: argparse.ArgumentParser, config_help: str) -> None:
    """--config FILE, --smoke and --resume [CHECKPOINT] of the training commands."""
    parser.add_argument("--config", help=config_help)
    parser.add_argument("--smoke", action="store_true",
                        help="shrink the recipe to a run of seconds on a CPU (tiny sizes, 4 steps; the overlay "
                             "pixel.train.config.SMOKE) to check an installation or a recipe")
    parser.add_argument("--resume", nargs="?", const="latest", default=None, metavar="CHECKPOINT",
                        help="continue a run: from the newest checkpoint in output_dir, or the given folder")


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


def add_rendering_arguments(parser: argparse.ArgumentParser, default: str | None) -> None:
    """--rendering NAME and --bigram-unit UNIT; ``default`` None: the model's renderer folder decides."""
    from pixel.render.structured import BIGRAM_UNITS, RENDERINGS

    chosen = "default continuous" if default else "default: the model's renderer folder's"
    parser.add_argument(
        "--rendering", choices=tuple(RENDERINGS), default=default,
        help=f"continuous (the original PIXEL), bigrams (PIXEL-M4, pixel-*-bigrams: two characters per patch), "
             f"words (each word starts a patch) or mono (monospaced, two characters per patch); pangocairo only; "
             f"{chosen}",
    )
    parser.add_argument(
        "--bigram-unit", choices=BIGRAM_UNITS, default="codepoint" if default else None,
        help="what --rendering bigrams pairs: code points (PIXEL-M4's) or whole grapheme clusters; "
             + ("default codepoint" if default else "default: the renderer folder's"),
    )
