"""`pixel embed`: sentence embeddings of texts (arguments, a file, JSON lines or stdin) written as .npy or
.safetensors, a retrieval check over parallel files, a PCA scatter coloured by a label."""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from pixel.cli.options import add_precision_argument, decode_utf8, read_stdin, stdin_is_piped

HELP = ("Sentence embeddings: pixel embed --model DIR TEXT... | --file FILE (one per line) | --jsonl FILE "
        "[--field text] | stdin --output OUT.npy|OUT.safetensors; --retrieval A B (line i of A translates "
        "line i of B); --scatter OUT.png --label-field NAME")

OUTPUT_SUFFIXES = (".npy", ".safetensors")


def add_arguments(parser: argparse.ArgumentParser) -> None:
    from pixel.embedding.encode import POOLINGS

    parser.add_argument("--model", required=True, help="any PIXEL folder or Hub id: a pretraining checkpoint, a "
                                                       "PIXELModel or a fine-tuned model (its encoder)")
    parser.add_argument("texts", nargs="*", metavar="TEXT", help="texts to embed; '-': read stdin")
    parser.add_argument("--file", metavar="FILE", help="texts, one per line: row i of the output is line i (a "
                        "blank line is the empty text); '-': stdin (also read when no TEXT is given and stdin "
                        "is not a terminal)")
    parser.add_argument("--jsonl", metavar="FILE", help="texts in JSON lines, the string --field of each")
    parser.add_argument("--field", default="text", help="field of --jsonl holding the text (default text)")
    parser.add_argument("--output", metavar="OUT", help="float32 [N, D] embeddings: OUT.npy, or OUT.safetensors "
                        "(tensor 'embeddings', the model and pooling in its metadata)")
    parser.add_argument("--retrieval", nargs=2, metavar=("A", "B"), help="parallel files (line i of A "
                        "translates line i of B): print top-1 accuracy and MRR of cosine nearest-neighbour "
                        "search A -> B and B -> A")
    parser.add_argument("--scatter", metavar="PNG", help="PCA scatter of the embeddings coloured by "
                                                         "--label-field (with --jsonl)")
    parser.add_argument("--label-field", "--label_field", help="field of --jsonl holding the label of --scatter")
    parser.add_argument("--pooling", choices=POOLINGS, default="mean",
                        help="mean (default) or max over the text patches and the end patch, or the CLS token")
    add_precision_argument(parser)
    parser.add_argument("--max-seq-length", "--max_seq_length", type=int, metavar="L",
                        help="patches per strip (default: the model's); short texts embed faster in short strips, "
                             "with the same vectors")
    parser.add_argument("--renderer", help="renderer folder, when the model folder has none")
    parser.add_argument("--batch-size", "--batch_size", type=int, default=32, help="strips per forward pass")
    parser.add_argument("--num-workers", "--num_workers", type=int, default=None, metavar="N",
                        help="processes that render while the model runs (default: none for a few inputs, else "
                             "up to 4)")
    parser.add_argument("--device", default="auto", help="auto, cpu, cuda, cuda:1 ...")
    parser.add_argument("--quiet", action="store_true",
                        help="no progress bar and no throughput line on stderr (the bar shows only on a terminal)")


def read_lines(source: str) -> list[str]:
    """The lines of a text file (or stdin for '-'), every line one text; ValueError naming the file when it
    holds no text."""
    text, name = (read_stdin("input"), "stdin") if source == "-" else (decode_utf8(_read(source), source), source)
    lines = text.splitlines()
    if not any(line.strip() for line in lines):
        raise ValueError(f"nothing to embed: {name} holds no text")
    return lines


def read_jsonl(source: str, *fields: str) -> list[list[str]]:
    """Per field, the strings of that field in each JSON line of ``source`` (blank lines skipped)."""
    columns: list[list[str]] = [[] for _ in fields]
    for number, line in enumerate(decode_utf8(_read(source), source).splitlines(), start=1):
        if not line.strip():
            continue
        try:
            record = json.loads(line)
        except json.JSONDecodeError as err:
            raise ValueError(f"{source}:{number}: invalid JSON line ({err.msg})") from None
        for field, column in zip(fields, columns, strict=True):
            value = record.get(field) if isinstance(record, dict) else None
            if not isinstance(value, str):
                raise ValueError(f"{source}:{number}: expected a JSON object with a string {field!r}, got "
                                 f"{line[:80]}")
            column.append(value)
    if not columns[0]:
        raise ValueError(f"nothing to embed: {source} holds no JSON line")
    return columns


def _read(source: str) -> bytes:
    path = Path(source)
    if not path.is_file():
        raise FileNotFoundError(f"{source}: no such file")
    return path.read_bytes()


def check_output(output: str) -> Path:
    path = Path(output).expanduser()
    if path.suffix not in OUTPUT_SUFFIXES:
        raise ValueError(f"--output {output}: name a .npy or .safetensors file")
    return path


def save_embeddings(path: Path, vectors, metadata: dict[str, str]) -> None:
    """float32 [N, D] into ``path`` (.npy or .safetensors), atomically, creating its folder."""
    import numpy as np

    from pixel.io import atomic_path

    path.parent.mkdir(parents=True, exist_ok=True)
    with atomic_path(path) as temporary:
        if path.suffix == ".npy":
            with temporary.open("wb") as stream:
                np.save(stream, vectors)
        else:
            from safetensors.numpy import save_file

            save_file({"embeddings": np.ascontiguousarray(vectors)}, str(temporary), metadata=metadata)


def run(args: argparse.Namespace) -> int:
    from pixel.embedding.encode import embed, load_encoder
    from pixel.finetune.model_folder import default_device

    if args.batch_size < 1:
        raise ValueError(f"--batch-size must be >= 1, got {args.batch_size}")
    texts, labels = _inputs(args)
    output = check_output(args.output) if args.output else None
    if args.scatter:
        from pixel.render.picture import check_png_path

        check_png_path(args.scatter)
    if output is None and not (args.retrieval or args.scatter):
        raise ValueError("say where the embeddings go: --output OUT.npy or OUT.safetensors")
    device = default_device(args.device)
    encoder, renderer = load_encoder(args.model, args.renderer, args.max_seq_length, device)

    def vectors_of(inputs: list[str]):
        return embed(encoder, inputs, args.pooling, args.batch_size, args.num_workers, args.precision,
                     renderer=renderer, device=device, quiet=args.quiet)

    if args.retrieval:
        _report_retrieval(args.retrieval, [vectors_of(texts_of) for texts_of in texts], args.pooling)
        return 0
    vectors = vectors_of(texts)
    if output is not None:
        save_embeddings(output, vectors, {"model": str(args.model), "pooling": args.pooling})
        print(f"wrote {output} ({vectors.shape[0]} x {vectors.shape[1]} float32, {args.pooling} pooling)")
    if args.scatter:
        import numpy as np

        from pixel.embedding.scatter import scatter_figure
        from pixel.render.picture import save_png

        picture = scatter_figure(vectors, labels, f"{args.model}: {args.pooling} pooling, by {args.label_field}")
        print(f"wrote {save_png(np.asarray(picture), args.scatter)}")
    return 0


def _inputs(args: argparse.Namespace):
    """(texts, labels): texts a list of strings (with --retrieval: the two files' lists); labels for
    --scatter."""
    sources = [name for name, given in (("TEXT", args.texts and args.texts != ["-"]), ("--file", args.file),
                                        ("--jsonl", args.jsonl), ("--retrieval", args.retrieval)) if given]
    if len(sources) > 1:
        raise ValueError(f"give the texts one way, not {' and '.join(sources)}")
    if args.retrieval and (args.output or args.scatter):
        raise ValueError("--retrieval prints scores only: drop --output and --scatter (embed the files one by one "
                         "to keep their vectors)")
    if args.scatter and not (args.jsonl and args.label_field):
        raise ValueError("--scatter colours points by a label: give --jsonl FILE and --label-field NAME")
    if args.retrieval:
        a, b = (read_lines(source) for source in args.retrieval)
        if len(a) != len(b):
            raise ValueError(f"--retrieval needs parallel files: {args.retrieval[0]} has {len(a)} lines, "
                             f"{args.retrieval[1]} has {len(b)}")
        return [a, b], None
    if args.jsonl:
        fields = (args.field, args.label_field) if args.scatter else (args.field,)
        columns = read_jsonl(args.jsonl, *fields)
        return columns[0], columns[1] if args.scatter else None
    if args.file is not None or args.texts == ["-"] or (not args.texts and stdin_is_piped()):
        return read_lines("-" if args.file is None else args.file), None
    if not args.texts:
        raise ValueError("nothing to embed: give TEXT, --file FILE, --jsonl FILE or texts on stdin")
    return list(args.texts), None


def _report_retrieval(files: list[str], vectors: list, pooling: str) -> None:
    from pixel.embedding.retrieval import chance_scores, retrieval_scores

    a, b = files
    top1, mrr = chance_scores(len(vectors[0]))
    print(f"retrieval of {len(vectors[0])} pairs by cosine similarity, {pooling} pooling (chance: top-1 "
          f"{top1:.3f}, MRR {mrr:.3f})")
    for (name_q, queries), (name_c, candidates) in (((a, vectors[0]), (b, vectors[1])),
                                                    ((b, vectors[1]), (a, vectors[0]))):
        scores = retrieval_scores(queries, candidates)
        print(f"{name_q} -> {name_c}: top-1 {scores.top1:.3f}, MRR {scores.mrr:.3f}")
