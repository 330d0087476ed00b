"""`pixel explain`: a relevance map of a fine-tuned classifier's prediction over the patches of the strip, PNG."""

from __future__ import annotations

import argparse

TITLE_CHARS = 240  # the text shown above the maps (the strip shows what the model read)
HELP = ("Relevance map of a classifier's prediction over the strip: pixel explain --model DIR TEXT [--pair TEXT] "
        "[--method chefer|gradient] [--label NAME] [--word I | --patch P] [--output relevance.png] [--json]")


def add_arguments(parser: argparse.ArgumentParser) -> None:
    from pixel.cli.evaluate import add_model_arguments

    add_model_arguments(parser)
    parser.add_argument("text", metavar="TEXT", help="the text (a sentence of words for POS and NER: split at spaces)")
    parser.add_argument("--pair", help="second text of a pair (models fine-tuned on pairs)")
    parser.add_argument("--method", choices=("chefer", "gradient"), default="chefer",
                        help="chefer: Chefer et al. 2021 attention relevance (default, as the original); "
                             "gradient: gradient x input of the patch embeddings (cheaper)")
    parser.add_argument("--label", help="the label to explain (default: the predicted one)")
    parser.add_argument("--word", type=int, help="POS/NER: explain only this word's label (0 = first word); "
                                                 "default every word, one map each")
    parser.add_argument("--patch", type=int, help="POS/NER: explain the label predicted at this patch")
    parser.add_argument("--output", default="relevance.png", help="picture to write (default relevance.png)")
    parser.add_argument("--json", action="store_true", help="also print each map as a JSON object")


def run(args: argparse.Namespace) -> int:
    import json
    import textwrap

    import numpy as np

    from pixel.explain import relevance, word_relevances
    from pixel.explain.figure import relevance_figure
    from pixel.explain.relevance import check_explainable
    from pixel.finetune.model_folder import default_device, load_finetuned
    from pixel.render.picture import check_png_path, save_png

    if args.batch_size < 1:
        raise ValueError(f"--batch_size must be >= 1, got {args.batch_size}")
    check_png_path(args.output)
    finetuned = load_finetuned(args.model, args.task, args.pooling_mode, args.renderer, default_device(args.device))
    kind = check_explainable(finetuned.model)
    if kind == "sequence" and (args.word is not None or args.patch is not None):
        raise ValueError("--word and --patch choose a position of a POS/NER model; this model classifies whole texts")
    [example] = finetuned.family.parse_inputs([args.text], {"pair": [args.pair] if args.pair else None})
    text = example.renderer_input()
    label = int(args.label) if args.label is not None and args.label.isdigit() else args.label
    if kind == "token" and args.word is None and args.patch is None:
        if label is not None:
            raise ValueError("--label needs --word or --patch (without them each word's predicted label is explained)")
        maps = word_relevances(finetuned.model, finetuned.renderer, text, method=args.method,
                               batch_size=args.batch_size)
    else:
        maps = [relevance(finetuned.model, finetuned.renderer, text, method=args.method, label=label,
                          word=args.word, patch=args.patch)]
    title = args.text if args.pair is None else f"{args.text} ||| {args.pair}"
    save_png(np.asarray(relevance_figure(maps, textwrap.shorten(title, TITLE_CHARS, placeholder=" ..."))),
             args.output)
    for map_ in maps:
        if args.json:
            print(json.dumps({"label": map_.label, "probability": map_.probability, "method": map_.method,
                              "read_out": map_.read_out, "word": map_.word, "patch": map_.patch,
                              "values": [round(float(v), 6) for v in map_.values]}, ensure_ascii=False))
        else:
            top = np.argsort(-map_.values, kind="stable")[:5]
            print(f"{map_.label}" + ("" if map_.probability is None else f" ({map_.probability:.3f})")
                  + ("" if map_.word is None else f" word {map_.word} {text[map_.word]!r}")
                  + "; most relevant patches: " + ", ".join(f"{p} ({map_.values[p]:.3g})" for p in top))
    print(f"pixel explain: {args.method} relevance of {len(maps)} prediction(s) drawn in {args.output}")
    return 0
