"""`pixel reconstruct TEXT --model DIR -o recon.png`: mask a rendered text, let a pretraining model fill it in."""

from __future__ import annotations

import argparse
import contextlib
from collections.abc import Iterator
from pathlib import Path

from pixel.cli.options import add_precision_argument, add_rendering_arguments
from pixel.resolve import is_repo_id

HELP = "render a text, mask patches and draw a pretraining model's reconstruction (prints the loss)"

# The small model this project trained and ships (models/pixel-cpu-bigrams/README.md); it lives in the source
# repository, next to src/, so a clone has it and an installed wheel does not.
SHIPPED_MODEL = Path(__file__).resolve().parents[3] / "models" / "pixel-cpu-bigrams"
INSTALL_HINT = (
    "Rendering needs the PangoCairo libraries: on Debian/Ubuntu `apt-get install libpango-1.0-0 "
    "libpangocairo-1.0-0 libpangoft2-1.0-0 libcairo2 fontconfig` and `pip install pangocairocffi` (or "
    "`make install` in the repository); or pass --renderer with a PyGame renderer folder (`pip install pygame`)."
)


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("text", help="the text to render and reconstruct")
    parser.add_argument("--model", help="pretraining model: a folder saved with save_pretrained, or a Hub id "
                        "(e.g. Team-PIXEL/pixel-base); default: models/pixel-cpu-bigrams of the repository")
    parser.add_argument("-o", "--output", default="recon.png", help="picture to write (PNG; default recon.png)")
    parser.add_argument("--mask-ratio", type=float, default=0.25, help="share of the strip's patches to mask")
    parser.add_argument("--masking", choices=("span", "random"), default="span",
                        help="span masking of pretraining (default) or uniformly random patches")
    parser.add_argument("--max-span-length", type=int, default=None,
                        help="longest masked span, 1-6 (default 6 as pixel-base's pretraining; 1 for the shipped "
                        "models, which were trained on single masked patches)")
    parser.add_argument("--seed", type=int, default=0, help="seed of the mask (default 0)")
    parser.add_argument("--max-seq-length", type=int, default=None,
                        help="patches in the strip (default: the model's; shorter truncates position embeddings)")
    parser.add_argument("--renderer", default=None, help="renderer folder or Hub id (default: the renderer saved "
                        "with the model, else PangoCairo with the bundled Noto Sans)")
    add_rendering_arguments(parser, default=None)
    parser.add_argument("--patches-per-line", type=int, default=64,
                        help="wrap the strip after this many patches (0 = one line)")
    parser.add_argument("--scale", type=int, default=2, help="nearest-neighbour upscaling of the strips (1-8)")
    parser.add_argument("--no-crop", action="store_true", help="show the whole strip, padding included")
    parser.add_argument("--device", default="auto", help="cpu, cuda, cuda:N or auto (default)")
    add_precision_argument(parser)


def shipped_model() -> Path | None:
    """The shipped model folder of the repository when its weights are there, else None."""
    return SHIPPED_MODEL if (SHIPPED_MODEL / "model.safetensors").is_file() else None


def _model_location(name: str | None) -> str:
    if name is None:
        if shipped_model() is not None:
            return str(SHIPPED_MODEL)
        raise ValueError("--model is required: a pretraining model folder (save_pretrained) or a Hub id such as "
                         f"Team-PIXEL/pixel-base (the default, {SHIPPED_MODEL}, comes with a clone of the "
                         "repository and is not there)")
    path = Path(name).expanduser()
    if path.is_dir():
        if not (path / "config.json").is_file():
            raise FileNotFoundError(f"model folder {path} has no config.json; pass a folder written by "
                                    "save_pretrained or a Hub id")
        return str(path)
    if path.exists():
        raise ValueError(f"--model {name}: expected a folder, got a file; pass the folder that holds config.json")
    if not is_repo_id(name):
        raise FileNotFoundError(f"model folder not found: {name} (pass a folder written by save_pretrained, "
                                "or a Hub id such as Team-PIXEL/pixel-base)")
    return name


@contextlib.contextmanager
def _explain_missing_renderer_libraries() -> Iterator[None]:
    """Turn a missing native/Python rendering library into an error that says what to install."""
    try:
        yield
    except FileNotFoundError:
        raise
    except (ImportError, OSError) as err:
        raise RuntimeError(f"cannot load the text renderer ({err}). {INSTALL_HINT}") from None


def run(args: argparse.Namespace) -> int:
    model_location = _model_location(args.model)
    if not 0.0 < args.mask_ratio < 1.0:
        raise ValueError(f"--mask-ratio: expected a number between 0 and 1 (exclusive), got {args.mask_ratio}")
    if args.patches_per_line < 0:
        raise ValueError(f"--patches-per-line: expected 0 (no wrapping) or more, got {args.patches_per_line}")
    max_span_length = args.max_span_length
    if max_span_length is None:
        max_span_length = 1 if Path(model_location).resolve() == SHIPPED_MODEL else 6

    import numpy as np

    from pixel.finetune.model_folder import default_device
    from pixel.model.pixel import PIXELForPreTraining
    from pixel.render.choose import choose_renderer
    from pixel.render.picture import check_png_path, save_png
    from pixel.runtime import inference_autocast
    from pixel.viz import reconstruct

    output = check_png_path(args.output)  # before the model is loaded
    device = default_device(args.device)
    model = PIXELForPreTraining.from_pretrained(model_location).to(device)
    with _explain_missing_renderer_libraries(), inference_autocast(device, args.precision):
        renderer, renderer_source = choose_renderer(args.renderer, model_location, args.rendering,
                                                    args.bigram_unit)
        # Native Pango/cairo handles are created on the first render, inside reconstruct.
        image, loss, details = reconstruct(
            model, renderer, args.text, mask_ratio=args.mask_ratio, span=args.masking == "span", seed=args.seed,
            max_seq_length=args.max_seq_length, max_span_length=max_span_length,
            caption=f"Model: {model_location} | renderer: {renderer_source}",
            crop=not args.no_crop, patches_per_line=args.patches_per_line or None, scale=args.scale,
        )
    save_png(np.asarray(image), output)
    print(f"reconstruction loss: {loss:.6f} ({details.masked_text_patches} masked text patches)")
    print(f"renderer: {renderer_source} (rendering {getattr(renderer, 'rendering', 'continuous')})")
    print(f"wrote {output} ({image.size[0]} x {image.size[1]} px)")
    return 0
