"""Shared argument handling of the commands: training options, text from stdin."""

from __future__ import annotations

import argparse
import sys


def add_run_arguments(parser: argparse.ArgumentParser, config_help: str) -> None:
    """--config FILE, --smoke, --resume [CHECKPOINT] and --overwrite_output_dir of the training commands."""
    parser.add_argument("--config", help=config_help)
    parser.add_argument("--smoke", action="store_true",
                        help="shrink the recipe to a run of seconds on a CPU (tiny sizes, 4 steps; the overlay "
                             "pixel.train.config.SMOKE) to check an installation or a recipe")
    parser.add_argument("--resume", nargs="?", const="latest", default=None, metavar="CHECKPOINT",
                        help="continue a run: from the newest checkpoint in output_dir, or the given folder")
    parser.add_argument("--overwrite_output_dir", "--overwrite-output-dir", action="store_true",
                        help="start over in an output_dir that holds an earlier run, deleting that run's files "
                             "(without it such a fresh run is refused)")


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


def add_precision_argument(parser: argparse.ArgumentParser) -> None:
    """--precision of the inference commands (pixel.runtime.inference_precision decides what auto means)."""
    from pixel.runtime import INFERENCE_PRECISIONS

    parser.add_argument("--precision", choices=INFERENCE_PRECISIONS, default="auto",
                        help="auto (default): bf16 autocast on GPUs and on CPUs with native bf16 (AVX-512 BF16, "
                             "AMX), else fp32. fp32 / bf16 force it")


def stdin_is_piped() -> bool:
    """Whether stdin can be read and is not a terminal (a pipe or a file)."""
    stream = sys.stdin
    return stream is not None and stream.readable() and not stream.isatty()


def read_stdin(what: str = "text") -> str:
    """All of stdin as text (UTF-8). ValueError when stdin is a terminal, is empty, or is not UTF-8."""
    stream = sys.stdin
    if not stdin_is_piped():
        raise ValueError(f"no {what} given: pass it as an argument or pipe it on stdin")
    raw = getattr(stream, "buffer", None)
    data = raw.read() if raw is not None else stream.read().encode("utf-8", "surrogateescape")
    text = decode_utf8(data, "stdin")
    if not text.strip():
        raise ValueError(f"no {what} given: stdin is empty")
    return text


def decode_utf8(data: bytes, source: str) -> str:
    """``data`` decoded as UTF-8 (a leading byte-order mark dropped); ValueError naming ``source`` and the first
    bad byte otherwise."""
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as err:
        raise ValueError(
            f"{source} is not UTF-8 text (byte {data[err.start]:#04x} at offset {err.start}); convert it first, "
            "e.g. iconv -f LATIN1 -t UTF-8 FILE > FILE.utf8 (name its real encoding)"
        ) from None
