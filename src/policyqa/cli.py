"""`policyqa` command line: a thin shell over the library verbs ingest, ask, quote, check, section,
eval."""

from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path

# One OpenBLAS thread for the process, set before numpy loads OpenBLAS (numpy is imported later,
# by the verbs). Every product policyqa makes is a question's small one, run on one BLAS thread
# anyway (blas.one_blas_thread); OpenBLAS's other thread only spun, 0.09 CPU-seconds at numpy's
# import and more after products: measured, a fresh process loading the index and answering took
# 0.41 CPU-s against 0.52 (the same wall time), CPU the page's browser or other askers can use.
# Set OPENBLAS_NUM_THREADS yourself to override it.
os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")

from .config import load_settings  # noqa: E402 - after the line above, on purpose

SAMPLE_QUESTION = "How should I keep participant records?"


def _progress(every: float = 10.0):
    """Progress per stage on stderr: a tqdm bar on a terminal. In a log (stderr not a terminal:
    cron, a service, CI) a bar redraws with "\r" at every batch, hundreds of updates run into
    one line; there a stage writes a line when it starts, every `every` seconds and when it
    ends ("policyqa: embed chunks: 300 of 751"), enough to see how far a long build got.
    tqdm is imported at the first bar: a question over a built index never shows one, and the
    import was 27 ms of a fresh `policyqa ask`."""
    if not sys.stderr.isatty():
        return _progress_lines(every)
    bars: dict = {}

    def update(stage: str, done: int, total: int) -> None:
        bar = bars.get(stage)
        if bar is None:
            from tqdm import tqdm

            bar = bars[stage] = tqdm(total=total, desc=stage, unit="item", file=sys.stderr,
                                     leave=True, dynamic_ncols=True)
        bar.n = done
        bar.refresh()
        if done >= total:
            bar.close()

    return update


def _progress_lines(every: float):
    """`_progress` for a log: a plain line per stage at its start, end and every `every` s."""
    import time

    last: dict[str, float] = {}

    def update(stage: str, done: int, total: int) -> None:
        now = time.monotonic()
        if stage in last and done < total and now - last[stage] < every:
            return
        last[stage] = now
        print(f"policyqa: {stage}: {done} of {total}", file=sys.stderr, flush=True)

    return update


def _fail(message: str, code: int = 2) -> int:
    print(f"policyqa: error: {message}", file=sys.stderr)
    return code


def _load(args, rebuild: str = "auto"):
    from .index import load_index

    return load_index(_settings(args), rebuild=rebuild, progress=_progress())


def _settings(args):
    """Settings from the common options: --corpus, --index, --database (else the environment)."""
    return load_settings(args.corpus, args.index, getattr(args, "database", None))


def _doc_ids(index, labels: list[str] | None) -> list[str] | None:
    """Accept document labels ("DMH 4.12") or ids (file names without extension)."""
    if not labels:
        return None
    out = []
    for label in labels:
        match = [d for d, doc in index.documents.items()
                 if label.casefold() in (d.casefold(), doc.label.casefold())]
        if not match:
            known = ", ".join(doc.label for doc in index.documents.values())
            raise ValueError(f"no document labelled {label!r} (known: {known})")
        out.extend(match)
    return out


def cmd_ingest(args) -> int:
    """Build the index; one summary line, then one line per file not indexed (file: reason), or
    with --json one report of every file.

    With a database every ingest is a worker of a shared build (ingest.ingest_shared), with no
    flag: a lone one builds the whole index as before, and the same command started again on
    this or another machine (same corpus folder) while it runs takes a share of the documents."""
    from .ingest import NoDocumentsError, build_index, ingest_shared, report_json

    settings = _settings(args)
    build = ingest_shared if settings.store_name == "postgres" else build_index
    try:
        report = build(settings, progress=_progress())
    except NoDocumentsError as exc:
        if args.json:
            rows = [{"file": s.path, "status": s.status, "reason": s.reason, "pages": 0,
                     "sections": 0, "chunks": 0} for s in exc.skipped]
            print(json.dumps(report_json(rows), ensure_ascii=False))
        else:
            _print_skipped(exc.skipped)
        found = f"all {len(exc.skipped)} file(s) skipped" if exc.skipped else "no files"
        return _fail(f"no readable documents in {exc.corpus_dir} ({found})")
    if args.json:
        print(json.dumps(report.to_json(), ensure_ascii=False))
        return 0
    print(f"Indexed {report.documents} documents, skipped {len(report.skipped)} file(s), "
          f"{report.chunks} chunks ({report.sections} sections, {report.sentences} sentences) "
          f"in {report.seconds:.1f} s: {settings.corpus_dir.resolve()} -> {report.path}")
    print(f"  embedded {sum(report.embedded.values())} text(s), reused "
          f"{sum(report.cached.values())} from the previous build")
    if report.worker:
        w = report.worker
        print(f"  worker {w['id']} read {len(w['read'])} of the {len(report.files)} file(s) of "
              f"ingest job {w['job']}; " + ("it finalised the job" if w["finalised"] else
                                            "another worker finalised the job"))
    for row in report.files:  # indexed, with something the user should know
        if row["status"] == "indexed" and row["reason"]:
            print(f"  indexed {row['file']}, note: {row['reason']}")
    _print_skipped(report.skipped)
    return 0


def _print_skipped(skipped) -> None:
    for s in skipped:
        print(f"  {s.status} {s.path}: {s.reason}")


def _one_line(text: str) -> str:
    """A quoted sentence on one line: a PDF's or a hard-wrapped file's sentence runs over lines
    and their indents ("The\n          Board president will..."), which a reader pasting the quote
    into a memo would have to mend. Only whitespace changes; the JSON keeps the exact text and
    offsets, and the passages below keep their lines."""
    return " ".join(text.split())


def _print_answer(answer) -> None:
    print(f"Q: {answer.question}")
    if answer.note:
        print(f"   ({answer.note})")
    if not answer.answered:
        print("The policies in the corpus don't appear to cover this question. Closest passages "
              "(weak matches):")
    elif answer.answer:
        print(f"Answer: \u00bb{_one_line(answer.answer.text)}\u00ab")
        print(f"   [{answer.answer.citation}]")
    for p in answer.passages:
        text = p.text
        if answer.answered and answer.answer and p.rank == answer.answer.passage_rank:
            a, b = answer.answer.start - p.start, answer.answer.end - p.start
            text = f"{text[:a]}\u00bb{text[a:b]}\u00ab{text[b:]}"
        print(f"\n{p.rank}. {p.citation}  (score {p.score:.3f})")
        if p.also_in:
            print(f"   (same words also in: {'; '.join(c.citation for c in p.also_in)})")
        for line in text.splitlines():
            print(f"   {line}")
    print()


def cmd_ask(args) -> int:
    from .answers import ask

    questions = [args.question] if args.question is not None else [
        line.rstrip("\n") for line in sys.stdin
    ]
    questions = [q for q in questions if q.strip()] if args.question is None else questions
    if not questions or any(not q.strip() for q in questions):
        return _fail("empty question")
    index = _load(args)
    docs = _doc_ids(index, args.doc)
    for q in questions:
        answer = ask(index, q, k=args.k, mode=args.mode, docs=docs)
        if args.json:
            print(json.dumps(answer.to_json(), ensure_ascii=False), flush=True)
        else:
            _print_answer(answer)
    return 0


def cmd_quote(args) -> int:
    from dataclasses import asdict

    from .quotes import find_quote

    if not args.phrase.strip():
        return _fail("empty phrase")
    index = _load(args)
    matches = find_quote(index, args.phrase, docs=_doc_ids(index, args.doc))
    if args.json:
        print(json.dumps({"phrase": args.phrase, "matches": [asdict(m) for m in matches]},
                         ensure_ascii=False))
        return 0
    if not matches:
        print("Not found, not even approximately.")
        return 1
    if not matches[0].exact:
        print("No exact match. Closest approximate matches:")
    else:
        print(f"{len(matches)} exact occurrence(s):")
    for m in matches:
        tag = "" if m.exact else f" (approximate, {m.similarity:.0f}% similar)"
        print(f"\n- {m.citation}{tag}\n  \u00bb{_one_line(m.text)}\u00ab\n  in: {_one_line(m.sentence)}")
    return 0


def cmd_check(args) -> int:
    """Trainers' check, as the page's "Check a citation" tab and the API's /check make it: a
    quote (and the citation it was given), or many from stdin ("quote | citation" a line) or a
    CSV file, each found verbatim, with differences or not at all. Exit status 1 where a quote
    is not found."""
    from .citations import (
        STATUS_TEXT,
        check_citation,
        parse_csv,
        parse_pairs,
        verdicts_csv,
    )
    from .documents import decode_text

    if args.csv is not None:
        pairs = parse_csv(decode_text(args.csv.read_bytes()))
    elif args.quote is not None:
        pairs = [(args.quote, args.citation)]
    else:
        pairs = parse_pairs(sys.stdin.read())
    if not pairs or not any(quote.strip() for quote, _ in pairs):
        return _fail("no quote to check")
    index = _load(args)
    docs = _doc_ids(index, args.doc)
    verdicts = [check_citation(index, quote, claimed, docs=docs) for quote, claimed in pairs]
    status = 1 if any(v.status == "not_found" for v in verdicts) else 0  # the exit status
    if args.json:
        for v in verdicts:
            print(json.dumps(v.to_json(), ensure_ascii=False), flush=True)
        return status
    if args.csv is not None:
        sys.stdout.write(verdicts_csv(verdicts))
        return status
    for v in verdicts:
        print(f"{_one_line(v.quote)}\n  {STATUS_TEXT[v.status].capitalize()}.")
        if v.claimed_ok is not None:
            print(f"  The given citation {'matches' if v.claimed_ok else 'does not match'} "
                  "where the words stand.")
        for citation in v.citations:
            print(f"  [{citation}]")
        if v.source_text:
            print(f"  The document says: \u00bb{_one_line(v.source_text)}\u00ab")
        for d in v.differences:
            print(f"  {d.op}: {_one_line(d.quoted) or '(nothing)'} -> "
                  f"{_one_line(d.source) or '(nothing)'}")
        print()
    return status


def cmd_section(args) -> int:
    """Supervisors' look-up of a whole section, as the page's document browser gives it: a
    document's contents, or the verbatim text of the section a reference names ("V.4.A", "V ›
    4 › A", its title's words) with its citation, ready to paste into a memo."""
    from .quotes import find_sections, sections_json
    from .render import section_export

    index = _load(args)
    [doc_id, *_] = _doc_ids(index, [args.doc])
    doc = index.documents[doc_id]
    ids = None
    if args.reference is not None:
        ids = find_sections(index, doc_id, args.reference)
        if not ids:
            return _fail(f"no section of {doc.label} matches {args.reference!r}; "
                         f"`policyqa section {doc.label!r}` lists its sections", 1)
    if args.json:
        print(json.dumps({"document": {"id": doc_id, "label": doc.label, "title": doc.title},
                          "sections": sections_json(index, doc_id, ids, text=ids is not None)},
                         ensure_ascii=False))
    elif ids is None:
        for section in sections_json(index, doc_id):
            print(f"{'  ' * (section['depth'] - 1)}{section['citation']}")
    else:
        print("\n".join(section_export(index, doc_id, i, "md" if args.md else "txt")
                        for i in ids), end="")
    return 0


def cmd_eval(args) -> int:
    from .report import run_cli

    return run_cli(args, _load(args))


def cmd_serve(args) -> int:
    from .api import serve

    return serve(args)


def cmd_page(args) -> int:
    from .page import serve

    return serve(_settings(args), args.host, args.port)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="policyqa", description="Extractive, cited answers over mental-health policies.")
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument("--corpus", type=Path, help="corpus folder (default: the folder the index was last "
                        "built from, else the project's corpus/)")
    common.add_argument("--index", type=Path, help="index folder (default: ./index)")
    common.add_argument("--database", metavar="URL",
                        help="PostgreSQL URL: use the PostgreSQL store instead of the index folder "
                             "(default: $POLICYQA_DATABASE_URL)")
    sub = parser.add_subparsers(dest="command", required=True)

    p = sub.add_parser("ingest", parents=[common], help="build the index from the corpus")
    p.add_argument("--json", action="store_true", help="one JSON report of every corpus file")
    p.set_defaults(func=cmd_ingest)

    p = sub.add_parser("ask", parents=[common], help="answer a question with cited passages")
    p.add_argument("question", nargs="?", help="the question; omit to read one per line from stdin")
    p.add_argument("--k", type=int, default=5, help="passages to return (default 5)")
    p.add_argument("--doc", action="append", help="restrict to a document label or id (repeatable)")
    p.add_argument("--mode", choices=["hybrid", "bm25", "dense"], default="hybrid")
    p.add_argument("--json", action="store_true", help="one JSON object per question per line")
    p.set_defaults(func=cmd_ask)

    p = sub.add_parser("quote", parents=[common], help="find every place a phrase stands")
    p.add_argument("phrase")
    p.add_argument("--doc", action="append", help="restrict to a document label or id")
    p.add_argument("--json", action="store_true")
    p.set_defaults(func=cmd_quote)

    p = sub.add_parser("check", parents=[common],
                       help="check a quote and the citation it was given")
    p.add_argument("quote", nargs="?",
                   help='the quote; omit to read "quote | citation" lines from stdin')
    p.add_argument("--citation", default="", help="the citation the quote was given")
    p.add_argument("--doc", action="append", help="look only in a document label or id")
    p.add_argument("--csv", type=Path, metavar="FILE",
                   help="check a CSV's quotes (columns quote, citation); verdicts as CSV")
    p.add_argument("--json", action="store_true", help="one JSON verdict per quote per line")
    p.set_defaults(func=cmd_check)

    p = sub.add_parser("section", parents=[common],
                       help="a document's contents, or one section's verbatim text and citation")
    p.add_argument("doc", help="document label or id")
    p.add_argument("reference", nargs="?",
                   help='the section: its path ("V.4.A", "V › 4 › A") or its title\'s words; '
                        "omit for the document's contents")
    p.add_argument("--md", action="store_true", help="the text as a Markdown quote")
    p.add_argument("--json", action="store_true")
    p.set_defaults(func=cmd_section)

    p = sub.add_parser("eval", parents=[common], help="measure retrieval on a gold Q&A file")
    p.add_argument("--gold", type=Path, default=None, help="gold JSONL (default eval/gold.jsonl)")
    p.add_argument("--split", choices=["dev", "test", "all"], default="all")
    p.add_argument("--k", type=int, default=10)
    p.add_argument("--json", action="store_true")
    p.add_argument("--report", type=Path, help="write report.md and chart.png into this folder")
    p.add_argument("--baseline", type=Path,
                   help="record these figures in a baseline JSON (the regression test's floor)")
    p.set_defaults(func=cmd_eval)

    p = sub.add_parser("serve", parents=[common], help="serve the HTTP JSON API (docs at /docs)")
    p.add_argument("--host", default="127.0.0.1", help="address to bind (default 127.0.0.1)")
    p.add_argument("--port", type=int, default=8000, help="port (default 8000)")
    p.set_defaults(func=cmd_serve)

    p = sub.add_parser("page", parents=[common],
                       help="serve the page (app.py), loading the index as the server starts")
    p.add_argument("--host", help="address to bind (default: every interface, as Streamlit's)")
    p.add_argument("--port", type=int, default=8501, help="port (default 8501)")
    p.set_defaults(func=cmd_page)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    if getattr(args, "k", 1) is not None and getattr(args, "k", 1) < 1:
        return _fail("--k must be at least 1")
    from .documents import DocumentError
    from .errors import IndexError_

    try:
        return args.func(args)
    except (IndexError_, DocumentError, ValueError) as exc:
        return _fail(str(exc))
    except KeyboardInterrupt:
        return _fail("interrupted", 130)
    except BrokenPipeError:
        # The reader stopped reading (`policyqa ask --json < questions | head -1`): nothing to
        # report. stdout goes to /dev/null so that Python's flush at exit does not fail again,
        # and the status is a SIGPIPE death's, as other tools in a pipeline give.
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 141
    except OSError as exc:  # a full disk, a folder gone: the build left the old index current
        return _fail(str(exc))


if __name__ == "__main__":
    sys.exit(main())
