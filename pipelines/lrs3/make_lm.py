"""Word n-gram LM and lexicon from a corpus's own training transcripts (no download).

    python pipelines/lrs3/make_lm.py lrs3 $LRS3 $LM_DIR --order 3 --val-fraction 0.01 --split-seed 0
    python pipelines/lrs3/make_lm.py lrs2 $LRS2 $LM_DIR --order 3

Reads the corpus with the same registered reader as ``lipread prepare`` (same ``--option``s and
split settings), keeps the transcripts of the ``train`` split only (never val or test), normalizes
them with the model's vocabulary (``english``: lower case, letters, digits, apostrophes), and writes

    LM_DIR/lm_{order}gram.arpa   interpolated Witten-Bell n-gram LM (lipread.decoding.lm.write_arpa)
    LM_DIR/lexicon.txt           every training word, spelled by its characters (flashlight format)
    LM_DIR/lm.json               what was read: corpus, options, sentences, words, vocabulary size

Order 2 at least: flashlight-text's KenLM refuses unigram-only ARPA files. Decode with
``lipread evaluate ... --decoder beam --lm LM_DIR/lm_3gram.arpa --lexicon LM_DIR/lexicon.txt``.
``pipelines/grid/make_lm.py`` builds the GRID LM from the grammar instead of from transcripts.
"""

from __future__ import annotations

import argparse
import json
import logging
from pathlib import Path

from lipread.data.corpora import read_corpus
from lipread.decoding.lm import write_arpa, write_lexicon
from lipread.text import Tokenizer


def training_sentences(corpus: str, root: str, vocabulary: str = "english", **options) -> list[list[str]]:
    """Normalized word lists of the ``train`` split's transcripts (clips the reader could not read are left out)."""
    tok = Tokenizer.from_name(vocabulary)
    entries = read_corpus(corpus, root, **options)
    return [tok.clean(e.record.text).split() for e in entries
            if e.split == "train" and not e.error and tok.clean(e.record.text)]


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("corpus", help="registered corpus reader: lrs3, lrs2, grid, manifest")
    parser.add_argument("root", help="corpus folder (as for lipread prepare)")
    parser.add_argument("out_dir", type=Path)
    parser.add_argument("--order", type=int, default=3, help="n-gram order (>= 2)")
    parser.add_argument("--vocabulary", default="english", help="the model's vocabulary (text normalization)")
    parser.add_argument("--val-fraction", type=float, default=None, help="as given to lipread prepare")
    parser.add_argument("--split-seed", type=int, default=None, help="as given to lipread prepare")
    parser.add_argument("--option", action="append", default=[], metavar="KEY=VALUE",
                        help="corpus reader option, as given to lipread prepare (e.g. subsets=pretrain,trainval)")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(levelname)s %(name)s: %(message)s")
    options = {}
    for item in args.option:
        key, _, value = item.partition("=")
        options[key.strip().replace("-", "_")] = value
    if args.val_fraction is not None:
        options["val_fraction"] = args.val_fraction
    if args.split_seed is not None:
        options["seed"] = args.split_seed
    sentences = training_sentences(args.corpus, args.root, args.vocabulary, **options)
    if not sentences:
        raise SystemExit(f"{args.root}: no training transcripts found")
    arpa = write_arpa(sentences, args.out_dir / f"lm_{args.order}gram.arpa", args.order)
    words = sorted({w for s in sentences for w in s})
    lexicon = write_lexicon(words, args.out_dir / "lexicon.txt")
    info = {"corpus": args.corpus, "root": str(args.root), "options": options, "order": args.order,
            "vocabulary": args.vocabulary, "sentences": len(sentences), "words": sum(map(len, sentences)),
            "lexicon_words": len(words), "arpa": arpa.name, "lexicon": lexicon.name}
    (args.out_dir / "lm.json").write_text(json.dumps(info, indent=2) + "\n")
    print(f"wrote {arpa} and {lexicon}: {len(sentences)} sentences, {info['words']} words, {len(words)} word types")


if __name__ == "__main__":
    main()
