"""Check a quote and the citation it was given; render cited text safely for the page.

A trainer pastes a quote (and, optionally, where it was said to come from). `check_citation` says
whether the words stand in the corpus verbatim, with differences (word by word), or not at all,
gives the true citation(s), and whether the claimed citation points where the words really stand.
Matching is `quotes.find_quote`'s (the project's one normalization); the words shown are always
the document's own. The page's HTML rendering of verdicts is in render.py.
"""

from __future__ import annotations

import csv
import difflib
import io
import itertools
import re
from dataclasses import asdict, dataclass, field

from .documents import DocumentError, decode_text
from .formats import list_marker
from .index import Index
from .normalize import fold, normalize, unbroken
from .quotes import (
    INSERTION,
    INSERTION_CHARS,
    OMISSION,
    OMISSION_CHARS,
    QuoteMarks,
    QuoteMatch,
    find_in_order,
    find_quote,
    quote_parts,
    sentence_start,
)

STATUS_TEXT = {
    "verbatim": "found verbatim",
    "differences": "found with differences",
    "not_found": "not found",
}
# Uploads and batches: a CSV of at most this many bytes (the page's limit, and the server's through
# .streamlit/config.toml), and at most this many quotes checked at once (about 50 ms each).
MAX_CSV_BYTES = 1024 * 1024
MAX_BATCH = 200
# An approximate match counts as "found with differences" only when at least this share of the
# quote's words stand, in order, in the document passage; otherwise it is "not found".
MIN_WORD_SHARE = 0.5


@dataclass
class WordDiff:
    """One stretch of a word-level comparison: quote words against the document's words."""

    # "equal" | "replace" | "delete" (only in the quote) | "insert" (only in the document);
    # in a verbatim quote, what it marks as its own: "omitted" (its "..." and the words it
    # leaves out) | "altered" (its "[them]" and the words it stands for)
    op: str
    quoted: str
    source: str


@dataclass
class Verdict:
    quote: str
    claimed: str  # the citation the quote was given ("" when none)
    status: str  # "verbatim" | "differences" | "not_found"
    matches: list[QuoteMatch] = field(default_factory=list)
    diff: list[WordDiff] = field(default_factory=list)  # quote vs the closest passage
    claimed_ok: bool | None = None  # None when no citation was given or the words are not found
    similarity: float = 0.0

    @property
    def differences(self) -> list[WordDiff]:
        return [d for d in self.diff if d.op != "equal"]

    @property
    def citations(self) -> list[str]:
        """The true citation(s), each once, in document order."""
        return list(dict.fromkeys(m.citation for m in self.matches))

    @property
    def source_text(self) -> str:
        """The document's own words for the best match ("" when not found)."""
        return self.matches[0].text if self.matches else ""

    def to_json(self) -> dict:
        """The verdict as JSON (the HTTP API's /check): `verdict_row`'s facts, with structure."""
        return {
            "quote": self.quote, "claimed_citation": self.claimed, "status": self.status,
            "verdict": STATUS_TEXT[self.status], "claimed_citation_matches": self.claimed_ok,
            "true_citations": self.citations, "document_words": self.source_text,
            "similarity": self.similarity,
            "differences": [asdict(d) for d in self.differences],
            "matches": [asdict(m) for m in self.matches],
        }


# ---------------------------------------------------------------- checking one quote

_ITEM_MARKER = re.compile(r"^(?:\(?(?:\d{1,3}|[A-Za-z]|[ivxlc]{1,6})[.)]|[\u2022\u25e6*-])\s+")
_ENCLOSING = "\"'\u201c\u201d\u2018\u2019\u00ab\u00bb \t\n"
_WORD = re.compile(r"\S+")


def clean_quote(quote: str) -> str:
    """The quote without enclosing quotation marks or leading/trailing ellipses ("...", "[...]")."""
    text = quote.strip()
    for _ in range(3):
        text = text.strip(_ENCLOSING)
        text = re.sub(rf"^{OMISSION.pattern}|{OMISSION.pattern}$", "", text)
    return text.strip(_ENCLOSING)


def unbracketed(quote: str) -> str:
    """The quote with its bracketed insertions as plain words ("[T]he" "The", "[I] will" "I
    will", "client[s]" "clients"): where the document has those words, the brackets only
    marked a change of case, and the quote is verbatim."""
    return INSERTION.sub(lambda m: m.group(1) if not OMISSION.fullmatch(m.group()) else
                          m.group(), quote)


def _marked(index: Index, marks: QuoteMarks, docs: list[str] | None
            ) -> tuple[list[QuoteMatch], list[WordDiff]]:
    """The places where a quote's parts stand in order (`quote_parts`), and the word diff of the
    first: each part equal, each mark against the document's words it omits or stands for. An
    insertion the quote opens or ends with stands for the words of the sentence before or after
    the rest (at most INSERTION_CHARS of them)."""
    limits = [INSERTION_CHARS if kind == "altered" else OMISSION_CHARS for kind, _ in marks.gaps]
    places = []
    for match, spans in find_in_order(index, marks.parts, limits, docs):
        text = index.documents[match.doc_id].text
        diff = [WordDiff("equal", marks.parts[0], text[spans[0][0]:spans[0][1]])]
        for (kind, mark), part, (left, right) in zip(marks.gaps, marks.parts[1:],
                                                     itertools.pairwise(spans), strict=True):
            diff.append(WordDiff(kind, mark, text[left[1]:right[0]].strip()))
            diff.append(WordDiff("equal", part, text[right[0]:right[1]]))
        sentence = sentence_start(index, match)
        if marks.before:  # (the sentence's words, not the number of the item it opens)
            words = _ITEM_MARKER.sub("", text[sentence:spans[0][0]].strip())
            diff.insert(0, WordDiff("altered", marks.before, words))
        if marks.after:
            words = text[spans[-1][1]:sentence + len(match.sentence)].strip().rstrip(".;:,!?")
            diff.append(WordDiff("altered", marks.after, words.strip()))
        if all(len(d.source) <= INSERTION_CHARS for d in diff if d.op == "altered"):
            places.append((match, diff))
    return [match for match, _ in places], (places[0][1] if places else [])


def _words(text: str, base: int = 0) -> list[tuple[str, int, int]]:
    """(normalized word, start, end) for each whitespace-separated word of the text."""
    out = []
    for m in _WORD.finditer(text):
        key = re.sub(r"[^\w]", "", normalize(m.group()))
        out.append((key or normalize(m.group()), base + m.start(), base + m.end()))
    return out


def _align(index: Index, quote: str, match: QuoteMatch) -> tuple[QuoteMatch, list[WordDiff], float]:
    """Re-place an approximate match on whole words and diff it against the quote word by word."""
    doc = index.documents[match.doc_id]
    span = max(len(quote), match.end - match.start)
    lo, hi = max(0, match.start - span), min(len(doc.text), match.end + span)
    quoted = _words(quote)
    window = _words(doc.text[lo:hi], lo)
    sm = difflib.SequenceMatcher(None, [w for w, _, _ in quoted], [w for w, _, _ in window],
                                 autojunk=False)
    blocks = [b for b in sm.get_matching_blocks() if b.size]
    if not blocks:
        return match, [WordDiff("replace", quote, match.text)], 0.0
    # keep the densest run of blocks: drop stray one-word hits far from the rest
    first, last = blocks[0], blocks[-1]
    s_word, e_word = first.b, last.b + last.size
    source = window[s_word:e_word]
    start, end = source[0][1], source[-1][2]
    sm = difflib.SequenceMatcher(None, [w for w, _, _ in quoted], [w for w, _, _ in source],
                                 autojunk=False)
    diff = []
    for op, i1, i2, j1, j2 in sm.get_opcodes():
        q = quote[quoted[i1][1] : quoted[i2 - 1][2]] if i2 > i1 else ""
        s = doc.text[source[j1][1] : source[j2 - 1][2]] if j2 > j1 else ""
        diff.append(WordDiff(op, q, s))
    share = sum(b.size for b in sm.get_matching_blocks()) / max(len(quoted), 1)
    placed = QuoteMatch(match.doc_id, match.doc_label, start, end, doc.text[start:end],
                        match.sentence, match.citation, False, match.similarity)
    return placed, diff, share


def check_citation(index: Index, quote: str, claimed: str = "",
                   docs: list[str] | None = None) -> Verdict:
    """Where a quote stands in the corpus, and whether `claimed` points there.

    A quote that marks words it leaves out ("...", "[...]") or puts in ("[them]", "[T]he") is
    verbatim where the rest stands word for word, in order and near (`quote_parts`); its diff
    shows each mark against the document's words it omits or stands for, for the trainer to
    judge. An unmarked change is a difference, as before.

    Args:
        quote: the words as quoted (enclosing quotation marks and ellipses are ignored).
        claimed: the citation the quote was given, e.g. "DMH 4.12, V › 4 › A" ("" for none).
        docs: restrict the search to these document ids.
    Returns:
        A Verdict; `matches` holds every exact occurrence, or the closest near-match.
    """
    text = clean_quote(quote)
    claimed = (claimed or "").strip()
    verdict = Verdict(quote=quote, claimed=claimed, status="not_found")
    if not normalize(text):
        return verdict
    # Exact first, as written, then with its brackets as plain words ("[T]he"), then by the
    # marks it makes (_marked); the near-match scan, the costly part, only where none holds.
    # (Its marks are _marked's to read, with their diff: not find_quote's.)
    exact = {"docs": docs, "approximate": 0, "omissions": False}
    plain = unbracketed(text)
    matches = find_quote(index, text, **exact) or (
        find_quote(index, plain, **exact) if plain != text else [])
    marks = quote_parts(unbroken(text))
    marked, marked_diff = _marked(index, marks, docs) if marks.marked and not matches else (
        [], [])
    if matches:
        verdict.status, verdict.matches, verdict.similarity = "verbatim", matches, 100.0
        verdict.diff = [WordDiff("equal", text, matches[0].text)]
    elif marked:  # verbatim but for the omissions and insertions the quote marks as its own
        verdict.status, verdict.matches, verdict.similarity = "verbatim", marked, 100.0
        verdict.diff = marked_diff
    elif matches := find_quote(index, text, docs=docs, omissions=False):
        placed, diff, share = _align(index, text, matches[0])
        if share < MIN_WORD_SHARE:
            return verdict
        verdict.status, verdict.matches, verdict.diff = "differences", [placed], diff
        verdict.similarity = matches[0].similarity
    else:
        return verdict
    if claimed:
        verdict.claimed_ok = any(citation_matches(index, claimed, m) for m in verdict.matches)
    return verdict


# ---------------------------------------------------------------- comparing citations

# A claimed page or range: "p. 4", "pp. 6-7", "page 12", and a front matter's "p. ii"
_PAGE = re.compile(r"\b(?:pp?\.?|pages?)\s*(\d+)(?:\s*[-\u2013]\s*(\d+))?"
                   r"|\b(?:pp?\.\s*|pp?\s+|pages?\s+)([ivxlcdm]+)\b(?:\s*[-\u2013]\s*([ivxlcdm]+)\b)?",
                   re.I)
_ROMAN = {list_marker(n, "lower-roman"): n for n in range(1, 400)}
_FILLER = {"section", "sections", "sec", "part", "item", "paragraph", "para", "chapter", "see",
           "and", "the", "of", "in", "at", "per", "under"}
_NAME_TOKEN = re.compile(r"[a-z0-9]+(?:\.[0-9]+)*")  # keeps "4.12" whole, as labels use it
_PATH_TOKEN = re.compile(r"[a-z0-9]+")  # "V.4.A" and "V › 4. X › A" both give v 4 ... a
_PART = re.compile(r"[,;\u203a>]")


def _tokens(text: str, pattern: re.Pattern = _NAME_TOKEN) -> list[str]:
    return pattern.findall(fold(text).casefold().replace("\u00a7", " "))


def _subsequence(needle: list[str], hay: list[str]) -> bool:
    it = iter(hay)
    return all(tok in it for tok in needle)


def _contiguous(needle: list[str], hay: list[str]) -> int:
    """Where `needle` starts inside `hay`, or -1."""
    n = len(needle)
    return next((i for i in range(len(hay) - n + 1) if n and hay[i : i + n] == needle), -1)


def _claimed_section(doc, claimed: str) -> str | None:
    """The claim with its document name removed, or None if it does not name `doc`."""
    text = fold(claimed).casefold().replace("\u00a7", " ")
    claim = _tokens(text)
    names = [_tokens(name) for name in (doc.label, doc.doc_id, doc.title)]
    named = [(len(t), _contiguous(t, claim)) for t in names]
    named = [(n, at) for n, at in named if at >= 0]
    if named:  # the exact name (the longest one found): drop it, keep the rest
        n, at = max(named)
        return " ".join(claim[:at] + claim[at + n :])
    # a loose name: the claim's first part is an abbreviation of the label or title
    parts = _PART.split(text, maxsplit=1)
    first, rest = parts[0], parts[1] if len(parts) > 1 else ""
    part = [t for t in _tokens(first) if t not in _FILLER]
    for name in (doc.label, doc.title):
        tokens = _tokens(name)
        if len(part) >= 2 and (_subsequence(part, tokens) or _subsequence(tokens, part)):
            return rest
    return None


def citation_matches(index: Index, claimed: str, match: QuoteMatch) -> bool:
    """Loosely, does a claimed citation point where `match` stands?

    The document must be named: its label, id or title, or an abbreviation of the label or title
    as the citation's first part ("Longmont Code of Conduct"). The section part, if any, must be
    the true section path or a loose abbreviation of it (its markers and words in order, e.g.
    "V › 4 › A", "V.4.A" or "Financial and Work Relationships" for "V › 4. Financial and Work
    Relationships › A"), or contain it. A page, if given, must agree where pages are known
    (`_page_agrees`).
    """
    doc = index.documents[match.doc_id]
    rest = _claimed_section(doc, _PAGE.sub(" ", claimed))
    if rest is None:
        return False
    page = _PAGE.search(claimed)
    if page and not _page_agrees(doc, match, page):
        return False
    wanted = [t for t in _tokens(rest, _PATH_TOKEN) if t not in _FILLER]
    if not wanted:
        return True  # a document-level citation is not wrong, only coarse
    path_text = match.citation[len(doc.label):] if match.citation.startswith(doc.label) \
        else match.citation
    path = [t for t in _tokens(_PAGE.sub(" ", path_text), _PATH_TOKEN) if t not in _FILLER]
    return _subsequence(wanted, path) or _subsequence(path, wanted)


def _page_agrees(doc, match: QuoteMatch, claimed: re.Match) -> bool:
    """Whether a claimed page or range (_PAGE) holds a page the words stand on (where they
    start or end), by the number printed on it, as policyqa cites it ("p. 7" of a manual whose
    front matter is i-iii), or by its place in the file (a PDF viewer's "p. 10"). The place
    alone was compared, so policyqa's own citation of such a page, pasted back, did not match.
    True where the source has no pages."""
    if doc.page_at(match.start) is None:
        return True
    lo = claimed.group(1) or claimed.group(3)
    hi = claimed.group(2) or claimed.group(4) or lo
    ends = {match.start, max(match.end - 1, match.start)}
    pages = {doc.page_label_at(at) for at in ends} | {str(doc.page_at(at)) for at in ends}
    return any(_within(page, lo, hi) for page in pages if page)


def _within(page: str, lo: str, hi: str) -> bool:
    """Whether a page label lies in lo..hi: as numbers, Roman numerals, or else the same text."""
    for value in (lambda x: int(x) if x.isdigit() else None,
                  lambda x: _ROMAN.get(x.casefold())):
        p, a, b = value(page), value(lo), value(hi)
        if None not in (p, a, b):
            return a <= p <= b
    return page.casefold() in (lo.casefold(), hi.casefold())


# ---------------------------------------------------------------- batches and CSV

CSV_COLUMNS = ["quote", "claimed_citation", "verdict", "claimed_citation_matches",
               "true_citations", "document_words", "differences"]


def check_batch(index: Index, pairs: list[tuple[str, str]]) -> list[Verdict]:
    """One verdict per (quote, claimed citation) pair, in order; blank quotes are skipped."""
    return [check_citation(index, q, c) for q, c in pairs if clean_quote(q)]


def parse_pairs(text: str) -> list[tuple[str, str]]:
    """`quote | citation` per line (the citation is optional); blank lines are skipped."""
    pairs = []
    for line in text.splitlines():
        if not line.strip():
            continue
        quote, sep, claimed = line.rpartition("|")
        pairs.append((quote.strip(), claimed.strip()) if sep else (line.strip(), ""))
    return pairs


def parse_csv(data: str | bytes) -> list[tuple[str, str]]:
    """Pairs from a CSV: columns named quote/citation (any case), else the first two columns."""
    if isinstance(data, bytes):
        data = data.decode("utf-8-sig", errors="replace")
    rows = [r for r in csv.reader(io.StringIO(data)) if any(cell.strip() for cell in r)]
    if not rows:
        return []
    header = [h.strip().casefold() for h in rows[0]]
    q_col, c_col = 0, 1
    if "quote" in header:
        q_col = header.index("quote")
        c_col = next((i for i, h in enumerate(header) if "citation" in h), -1)
        rows = rows[1:]
    return [(r[q_col].strip() if q_col < len(r) else "",
             r[c_col].strip() if 0 <= c_col < len(r) else "") for r in rows]


class UploadError(ValueError):
    """An uploaded file refused, with the reason in one line."""


def read_csv_upload(name: str, data: bytes, max_bytes: int = MAX_CSV_BYTES) -> list[tuple[str, str]]:
    """Pairs from an uploaded CSV, or UploadError: not a .csv, over `max_bytes`, binary, not text.

    Nothing is stored: the bytes are parsed in memory, and the file name (the browser's, so
    untrusted) is only checked for its extension, never used as a path.
    """
    if not name.casefold().endswith(".csv") or "\0" in name:
        raise UploadError("only .csv files are accepted")
    if len(data) > max_bytes:
        raise UploadError(f"the file has {len(data):,} bytes, over the limit of {max_bytes:,}")
    try:
        return parse_csv(decode_text(data))
    except DocumentError as exc:
        raise UploadError(str(exc).replace("document", "CSV file")) from None
    except csv.Error as exc:
        raise UploadError(f"not a readable CSV ({exc})") from None


def verdict_row(v: Verdict) -> dict[str, str]:
    ok = {None: "", True: "yes", False: "no"}[v.claimed_ok]
    diffs = "; ".join(f"{d.quoted or '(nothing)'} -> {d.source or '(nothing)'}"
                      for d in v.differences)
    return {
        "quote": v.quote, "claimed_citation": v.claimed, "verdict": STATUS_TEXT[v.status],
        "claimed_citation_matches": ok, "true_citations": " | ".join(v.citations),
        "document_words": v.source_text, "differences": diffs,
    }


def verdicts_csv(verdicts: list[Verdict]) -> str:
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=CSV_COLUMNS)
    writer.writeheader()
    writer.writerows(verdict_row(v) for v in verdicts)
    return out.getvalue()
