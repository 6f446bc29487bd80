"""Stage 1: read .txt/.md/.pdf files into canonical text, with page numbers and corpus metadata.

The canonical text is the source with conversion artifacts removed (markdown emphasis and link
syntax, page breaks inside a sentence); every offset anywhere in policyqa refers to it.
"""

from __future__ import annotations

import bisect
import hashlib
import logging
import re
import tomllib
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

SUPPORTED = (".txt", ".md", ".pdf")
METADATA_FILE = "metadata.toml"


class DocumentError(Exception):
    """A file that cannot be ingested; the message is the reason a user sees."""


@dataclass
class Document:
    doc_id: str
    path: str
    title: str
    label: str
    issuer: str = ""
    date: str = ""
    text: str = ""
    sha256: str = ""
    # (offset in text, page number) at each page start; empty when the source has no pages.
    page_starts: list[tuple[int, int]] = field(default_factory=list)

    def page_at(self, offset: int) -> int | None:
        if not self.page_starts:
            return None
        i = bisect.bisect_right([start for start, _ in self.page_starts], offset) - 1
        return self.page_starts[max(i, 0)][1]


@dataclass
class Skipped:
    path: str
    reason: str


# ---------------------------------------------------------------- cleaning with an offset map

# A rule's replacement is a list of (text, offset, copied): copied pieces are the match's own
# characters (each keeps its source offset); inserted pieces map to the offset given.
_Piece = tuple[str, int, bool]
_Rule = tuple[re.Pattern, Callable[[re.Match], list[_Piece]]]


def _groups(*groups: int) -> Callable[[re.Match], list[_Piece]]:
    return lambda m: [(m.group(g), m.start(g), True) for g in groups if m.group(g)]


def _literal(text: str) -> Callable[[re.Match], list[_Piece]]:
    return lambda m: [(text, m.start(), False)]


_RULES: list[_Rule] = [
    (re.compile(r"\r\n?"), _literal("\n")),
    (re.compile(r"[ \t]+$", re.M), _literal("")),
    # [link text](target "title") -> link text ; <https://x> -> https://x
    (re.compile(r'\[([^\]\n]+)\]\((?:[^()\s]|\([^()\s]*\))*(?:\s+"[^"\n]*")?\)'), _groups(1)),
    (re.compile(r"<((?:https?|mailto|ftp):[^>\s]+)>"), _groups(1)),
    # **bold**, *italic* (not list bullets, not lone asterisks)
    (re.compile(r"\*\*(?=\S)([^\n]+?)(?<=\S)\*\*"), _groups(1)),
    (re.compile(r"(?<![\w*])\*(?=[^\s*])([^*\n]+?)(?<=[^\s*])\*(?![\w*])"), _groups(1)),
    # A sentence broken by a page break: "...the organization and\n\nnot the staff person."
    (re.compile(r"(?<=[A-Za-z0-9,])[ \t]*\n(?:[ \t]*\n)+[ \t]*(?=[a-z])"), _literal(" ")),
]


def clean_text(raw: str) -> tuple[str, list[int]]:
    """Apply the cleaning rules; return the text and, for each of its characters, the raw offset."""
    text, source = raw, list(range(len(raw)))
    for pattern, repl in _RULES:
        pieces: list[str] = []
        mapping: list[int] = []
        last = 0
        for m in pattern.finditer(text):
            pieces.append(text[last : m.start()])
            mapping.extend(source[last : m.start()])
            for piece, at, copied in repl(m):
                pieces.append(piece)
                if copied:
                    mapping.extend(source[at : at + len(piece)])
                else:
                    mapping.extend([source[at]] * len(piece))
            last = m.end()
        pieces.append(text[last:])
        mapping.extend(source[last:])
        text, source = "".join(pieces), mapping
    return text, source


# ---------------------------------------------------------------- readers


def _utf16_without_bom(data: bytes) -> str | None:
    """UTF-16 saved without a byte-order mark: NUL in nearly every other byte (ASCII-range text)."""
    if len(data) < 4 or len(data) % 2:
        return None
    for encoding, zeros in (("utf-16-le", data[1::2]), ("utf-16-be", data[0::2])):
        if zeros.count(0) >= 0.9 * len(zeros):
            try:
                return data.decode(encoding)
            except UnicodeDecodeError:
                return None
    return None


def _looks_binary(text: str) -> bool:
    """Control characters other than whitespace are rare in prose and common in binary files."""
    controls = sum(1 for ch in text if ord(ch) < 32 and not ch.isspace())
    return controls > len(text) // 100


def decode_text(data: bytes) -> str:
    """Text from the bytes of a text file (UTF-8, UTF-16, Windows-1252), or DocumentError saying why
    not (empty, whitespace only, binary)."""
    if not data:
        raise DocumentError("empty file (0 bytes)")
    if not data.strip():
        raise DocumentError("no text (whitespace only)")
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        return data.decode("utf-16")
    if b"\x00" in data:
        text = _utf16_without_bom(data)
        if text is None:
            raise DocumentError("binary content (NUL bytes), not a text document")
        return text
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        text = data.decode("cp1252", errors="replace")
        if text.count("\ufffd") > len(text) // 100:
            raise DocumentError("not valid UTF-8 or Windows-1252 text") from None
    if _looks_binary(text):
        raise DocumentError("binary content (control characters), not a text document")
    return text


def _read_pdf(path: Path) -> tuple[str, list[tuple[int, int]]]:
    from pypdf import PdfReader
    from pypdf.errors import PdfReadError

    # pypdf logs every repair it attempts; the one-line reason below is what a user needs.
    pdf_log = logging.getLogger("pypdf")
    level = pdf_log.level
    pdf_log.setLevel(logging.CRITICAL)
    try:
        reader = PdfReader(path)
        if reader.is_encrypted:
            try:
                if not reader.decrypt(""):
                    raise DocumentError("password-protected PDF (no password known)")
            except DocumentError:
                raise
            except Exception as exc:
                raise DocumentError("password-protected PDF (no password known)") from exc
        parts: list[str] = []
        starts: list[tuple[int, int]] = []
        offset = 0
        for number, page in enumerate(reader.pages, start=1):
            page_text = (page.extract_text() or "").strip("\n")
            starts.append((offset, number))
            parts.append(page_text)
            offset += len(page_text) + 2
    except DocumentError:
        raise
    except Exception as exc:  # pypdf raises many types on damaged files (NotImplementedError...)
        kind = "unreadable PDF" if isinstance(exc, PdfReadError) else "damaged PDF"
        raise DocumentError(f"{kind} ({type(exc).__name__}: {_short(exc)})") from exc
    finally:
        pdf_log.setLevel(level)
    raw = "\n\n".join(parts)
    if not raw.strip():
        raise DocumentError("no extractable text, needs OCR")
    if raw.count("\ufffd") > len(raw.strip()) // 10:
        raise DocumentError("garbled text layer (undecodable characters), needs OCR or re-export")
    return raw, starts


def _short(exc: Exception, limit: int = 120) -> str:
    """A damaged file's error can quote kilobytes of it; one readable line is enough."""
    text = " ".join(str(exc).split())
    return text if len(text) <= limit else text[: limit - 1] + "\u2026"


def read_document(path: Path, meta: dict | None = None) -> Document:
    """Read one file into a Document; raises DocumentError with a reason a user can act on."""
    path = Path(path)
    suffix = path.suffix.lower()
    if suffix not in SUPPORTED:
        raise DocumentError(f"unsupported file type {suffix or '(none)'}")
    data = path.read_bytes()
    if suffix == ".pdf":
        if not data.startswith(b"%PDF"):
            raise DocumentError("not a PDF (no %PDF header)")
        raw, raw_pages = _read_pdf(path)
    else:
        raw, raw_pages = decode_text(data), []
    text, source = clean_text(raw)
    if not text.strip():
        raise DocumentError("no text (whitespace only)")
    page_starts = []
    if raw_pages:
        raw_offsets = [start for start, _ in raw_pages]
        last_page = None
        for i, src in enumerate(source):
            page = raw_pages[bisect.bisect_right(raw_offsets, src) - 1][1]
            if page != last_page:
                page_starts.append((i, page))
                last_page = page
    meta = meta or {}
    doc_id = path.stem
    title = meta.get("title") or _guess_title(text) or doc_id
    return Document(
        doc_id=doc_id,
        path=str(path),
        title=title,
        label=meta.get("label") or doc_id,
        issuer=meta.get("issuer", ""),
        date=str(meta.get("date", "")),
        text=text,
        sha256=hashlib.sha256(data).hexdigest(),
        page_starts=page_starts,
    )


def _guess_title(text: str) -> str:
    for line in text.splitlines():
        line = line.strip().lstrip("#").strip()
        if len(line.split()) >= 2:
            return line[:120]
    return ""


# ---------------------------------------------------------------- the corpus


def corpus_files(corpus_dir: Path) -> list[Path]:
    """Supported files directly in the corpus folder (and its subfolders), in a stable order."""
    return sorted(
        p
        for p in Path(corpus_dir).rglob("*")
        if p.is_file() and p.suffix.lower() in SUPPORTED and not p.name.startswith(".")
    )


def load_metadata(corpus_dir: Path) -> dict[str, dict]:
    """metadata.toml maps a file name to its title, issuer, date and citation label."""
    path = Path(corpus_dir) / METADATA_FILE
    if not path.exists():
        return {}
    try:
        with path.open("rb") as fh:
            data = tomllib.load(fh)
    except (OSError, tomllib.TOMLDecodeError) as exc:
        raise DocumentError(f"unreadable ({_short(exc)}); titles and labels fall back to file "
                            "names") from exc
    documents = data.get("documents", {})
    if not isinstance(documents, dict) or not all(isinstance(v, dict) for v in documents.values()):
        raise DocumentError("[documents] must map file names to tables; metadata ignored")
    return dict(documents)


def load_corpus(
    corpus_dir: Path, progress: Callable[[Path], None] | None = None
) -> tuple[list[Document], list[Skipped]]:
    """Read every supported file; a bad file is skipped with its reason, never stops the rest."""
    corpus_dir = Path(corpus_dir)
    if not corpus_dir.is_dir():
        what = "is not a folder" if corpus_dir.exists() else "not found"
        raise DocumentError(f"corpus folder {what}: {corpus_dir}")
    docs: list[Document] = []
    skipped: list[Skipped] = []
    try:
        metadata = load_metadata(corpus_dir)
    except DocumentError as exc:  # bad metadata must not stop the documents themselves
        metadata = {}
        skipped.append(Skipped(METADATA_FILE, str(exc)))
    seen: dict[str, str] = {}
    for path in corpus_files(corpus_dir):
        if progress:
            progress(path)
        name = path.relative_to(corpus_dir).as_posix()
        try:
            doc = read_document(path, metadata.get(path.name))
        except DocumentError as exc:
            skipped.append(Skipped(name, str(exc)))
            continue
        except OSError as exc:
            skipped.append(Skipped(name, f"cannot read file ({exc.strerror or exc})"))
            continue
        except Exception as exc:  # one bad file must never stop the others
            skipped.append(Skipped(name, f"unexpected error ({type(exc).__name__}: {exc})"))
            continue
        if doc.sha256 in seen:
            skipped.append(Skipped(name, f"duplicate of {seen[doc.sha256]} (indexed once)"))
            continue
        taken = {d.doc_id for d in docs}
        base, n = doc.doc_id, 1
        while doc.doc_id in taken:  # same stem in two folders or with two extensions
            n += 1
            doc.doc_id = f"{base}{path.suffix.lower()}" if n == 2 else f"{base}-{n}"
        seen[doc.sha256] = name
        docs.append(doc)
    return docs, skipped
