"""`pixel` command: dispatches to one module per sub-command.

Each command module defines ``HELP`` (one line), ``add_arguments(parser)`` and ``run(args) -> int``, and imports
heavy libraries (torch, Pango) inside ``run`` so that ``pixel --help`` stays fast.
"""

from __future__ import annotations

import argparse
import importlib
import os
import sys

# command name -> module
COMMANDS: dict[str, str] = {
    "pretrain": "pixel.cli.pretrain",
    "render": "pixel.cli.render",
    "demo": "pixel.cli.demo",
    "reconstruct": "pixel.cli.reconstruct",
    "finetune": "pixel.cli.finetune",
    "evaluate": "pixel.cli.evaluate",
    "predict": "pixel.cli.predict",
    "attack": "pixel.cli.attack",
    "explain": "pixel.cli.explain",
    "embed": "pixel.cli.embed",
}


def configure_runtime() -> None:
    """Thread and memory defaults for command-line runs (never set at import of the library).

    MKL's dynamic threading made fp32 matmuls unstable and ~2x slower on small CPU machines; glibc's default
    of mapping fresh pages for every large tensor slowed CPU steps (`pixel.runtime.keep_freed_memory`).
    """
    from pixel.runtime import keep_freed_memory

    os.environ.setdefault("MKL_DYNAMIC", "FALSE")
    keep_freed_memory()


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="pixel", description="PIXEL: language modelling with pixels.")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    for name, module_name in COMMANDS.items():
        module = importlib.import_module(module_name)
        command = sub.add_parser(name, help=module.HELP, description=module.HELP)
        module.add_arguments(command)
        command.set_defaults(_module=module)
    return parser


def main(argv: list[str] | None = None) -> int:
    configure_runtime()
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.command is None:
        parser.print_help()
        return 2
    try:
        return int(args._module.run(args) or 0)
    except KeyboardInterrupt:
        return 130
    except BrokenPipeError:
        # The reader went away (`pixel ... | head`): stop quietly, and keep Python's exit-time flush of
        # stdout from raising again.
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 141
    except (ValueError, TypeError, FileNotFoundError, RuntimeError) as err:
        # Library errors are written for people: print them without a traceback.
        print(f"pixel {args.command}: error: {err}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
