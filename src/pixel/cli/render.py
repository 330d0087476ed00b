"""`pixel render`: render a text, a pair or a word list to a PNG and print what the model will see."""

from __future__ import annotations

import argparse

from pixel.cli.options import read_stdin

HELP = "render text to a PNG strip of 16x16 patches (as PIXEL sees it)"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    from pixel.cli.options import add_rendering_arguments
    from pixel.render.folder import BACKENDS, DEFAULT_BACKEND

    parser.add_argument("text", nargs="?", default=None, help="text to render; '-' or omitted: read stdin")
    parser.add_argument("-o", "--output", required=True, help="PNG file to write")
    parser.add_argument("--pair", metavar="TEXT_B", help="render TEXT and TEXT_B as a pair (black patch between)")
    parser.add_argument("--words", action="store_true", help="split TEXT on whitespace and render a word list")
    parser.add_argument(
        "--renderer",
        choices=tuple(BACKENDS),
        default=DEFAULT_BACKEND,
        help="pangocairo (default; fine-tuning renders) or pygame (the renderer of pixel-base's pretraining data)",
    )
    add_rendering_arguments(parser, default="continuous")
    parser.add_argument("--font", metavar="FILE", help="font file (default: the Noto Sans shipped with pixel)")
    parser.add_argument("--rgb", action="store_true", help="render in RGB instead of grey")
    parser.add_argument("--max-seq-length", type=int, default=529, help="patches per strip (default 529)")
    parser.add_argument("--show-grid", action="store_true", help="upscale x4, draw the patch grid, frame black patches in red")
    parser.add_argument("--full", action="store_true", help="keep the whole strip (default: crop after the text)")


def read_text(args: argparse.Namespace) -> str:
    if args.text is None or args.text == "-":
        return read_stdin("TEXT").rstrip("\r\n")
    if not args.text.strip():
        raise ValueError("no text given: TEXT is empty")
    return args.text


def run(args: argparse.Namespace) -> int:
    from pixel.render.folder import renderer_class
    from pixel.render.picture import crop_to_text, describe_chars, draw_patch_grid, save_png

    if args.words and args.pair is not None:
        raise ValueError("--words and --pair exclude each other: choose one mode")
    text = read_text(args)
    settings = {"font_file": args.font, "rgb": args.rgb, "max_seq_length": args.max_seq_length}
    if args.rendering != "continuous":
        if args.renderer != "pangocairo":
            raise ValueError(f"--rendering {args.rendering} needs --renderer pangocairo (pygame draws continuous text)")
        settings.update(rendering=args.rendering, bigram_unit=args.bigram_unit)
    renderer = renderer_class(args.renderer)(**settings)
    if args.words:
        words = text.split()
        if not words:
            raise ValueError("--words needs at least one word, got only whitespace")
        encoding = renderer(words)
    elif args.pair is not None:
        encoding = renderer((text, args.pair))
    else:
        encoding = renderer(text)

    image = encoding.pixel_values if args.full else crop_to_text(encoding)
    if args.show_grid:
        image = draw_patch_grid(image, renderer.pixels_per_patch, encoding.sep_patches)
    path = save_png(image, args.output)
    print(f"wrote {path} ({image.shape[1]} x {image.shape[0]} px)")
    print(f"num_text_patches: {encoding.num_text_patches}")
    if encoding.word_starts is not None:
        print(f"word_starts: {encoding.word_starts}")
    if encoding.unrenderable_chars:
        print(f"unrenderable characters (drawn as boxes): {describe_chars(encoding.unrenderable_chars)}")
    return 0
