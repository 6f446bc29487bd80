"""Word files with python-docx: the text a reader sees, and the structure Word states. A
macro-enabled document (.docm) or a template (.dotx, .dotm) is read as a .docx: the same XML.

- Title and Heading 1-9 styles (or the outline level a paragraph or its style sets, as a
  template's own heading styles do) are the section tree; headings need no guessing here,
  unlike plain text.
- A document that uses no heading style at all (its author made headings by hand, the usual
  agency policy) has its headings read from how they look: a short paragraph set wholly in
  bold, not ending like a sentence (".", ";", ","), not a list item. Its level is its number's
  depth ("2.1 Small tokens" under "2. Gifts"), else 1; a first such line set larger than the
  rest is the title. Where heading styles exist, bold text is only emphasis.
- Word's automatic list numbers are not in the paragraph text. They are rebuilt from the numbering
  definitions (start, format, level text) and written before the item, since that is what the
  document shows; the item is then cited by them ("3 › b"). Bullets are shown as "•".
- A heading numbered by a multilevel list ("3.1 Scope", Word's usual numbered headings) shows its
  number in the text too, and keeps the list's counters in step with the items around it.
- The text of a paragraph is every run Word shows: runs inside hyperlinks, content controls,
  simple fields, smart tags and tracked insertions count (python-docx's `Paragraph.text` reads
  only direct runs and hyperlinks, so it loses them); tracked deletions and hidden text do not.
  Content controls around whole paragraphs or tables (templates, cover pages) are read through.
- Word's generated table of contents (its content control, or paragraphs in the "TOC n" styles)
  is left out: it repeats the headings with page numbers a .docx does not have.
- Tables are rows of cells (tab-separated, one line per row), in document order; a merged
  cell's words stand once, in its first row (the rows it spans below keep an empty cell).
- A table that lays a policy's text out under its labels (formats.label_table: two cells a row,
  a section label such as "PURPOSE" or "Procedure:" beside text, or labels beside paragraphs),
  as agency templates do, is read as that text under those labels: each label a heading one
  level below the heading above the table, its text the paragraphs of the cell beside it. Read
  as rows, every passage of such a policy was cited by the document's title alone. A glossary's
  rows stay rows: a term is its definition's subject.
- Footnotes and endnotes follow the paragraph (or table row) that refers to them, each as a
  paragraph of its own that starts with the number Word shows ("1 Gifts under $25 are
  nominal."): Word prints them at the foot of a page or the end, but a .docx has no pages, and
  beside its reference a note keeps the section it belongs to. Nothing of them is lost.
- Text boxes (callouts, sidebars, "Call 911 first" panels) follow the paragraph or table row they
  are anchored in, each of their paragraphs a paragraph of its own: Word draws them beside the
  text, and leaving them out lost policy wording. Word writes each box twice (for current readers
  and, as VML, for old ones); it is read once.
- A SmartArt graphic's text (a procedure's steps drawn as a process) is in a part of its own,
  the diagram's data model: it follows the paragraph the graphic stands in, a line per shape,
  in the order the graphic reads.
- A part the file imports where it stands (w:altChunk: a web page, web archive or Word file a
  policy system's export leaves for Word to pour in on opening) is read as its own format and
  its paragraphs stand there; a part of another kind (RTF) is named in the file's warnings.
- An embedded Excel worksheet (Insert > Object, or cells pasted from Excel or Calc as an
  object) is shown as a picture of its cells: the sheet it shows is read after its paragraph,
  as a table's rows (formats/sheets.py). Any other embedded object (a form as a PDF) is an icon
  or a picture to Word's reader, and an equation (Office Math) no text run; they are not read,
  and the file's report names them.
- Pages: where Word last laid the document out. Word writes a w:lastRenderedPageBreak where
  each page began (within the paragraph or row where a page broke) every time it saves, so a
  passage is cited by the page it stood on, as in the file's PDF. A file no Word saved
  (python-docx's, pandoc's, LibreOffice's) has none, and no pages: counting its hard page
  breaks alone would cite wrong pages. Where sections number their pages otherwise (front
  matter i, ii, iii; the policies from 1 again), a page is cited by the number it shows.
- Headers, footers and comments are not body text and are left out.
- Core properties (title, last modified date) fill metadata the corpus does not give.
"""

from __future__ import annotations

import re
import tempfile
import zipfile
import zlib
from pathlib import Path

from . import (
    Block,
    DocumentError,
    Extracted,
    counted,
    label_table,
    list_marker,
    looked_heading_level,
    numbered_heading,
    page_labels,
    row_breaks,
    size_depths,
)
from .sheets import sheet_lines, xlsx_rows

RT_FOOTNOTES = "http://schemas.openxmlformats.org/officeDocument/2006/relationships/footnotes"
RT_ENDNOTES = "http://schemas.openxmlformats.org/officeDocument/2006/relationships/endnotes"
_HEADING_STYLE = re.compile(r"heading\s*([1-9])$", re.I)
_W = "{http://schemas.openxmlformats.org/wordprocessingml/2006/main}"
_REL = "{http://schemas.openxmlformats.org/officeDocument/2006/relationships}"
# A whole Word document imported into another (an altChunk's part)
_DOCX_PART = "application/vnd.openxmlformats-officedocument.wordprocessingml.document.main+xml"
# The main part of each Word package Word opens as a document: a document (.docx), one with
# macros (.docm), a template (.dotx) and one with macros (.dotm). They hold the same
# WordprocessingML; python-docx opens only the first, and named the others "not a Word file".
_WORD_MAIN = frozenset({_DOCX_PART,
                        "application/vnd.ms-word.document.macroEnabled.main+xml",
                        "application/vnd.openxmlformats-officedocument.wordprocessingml.template"
                        ".main+xml",
                        "application/vnd.ms-word.template.macroEnabledTemplate.main+xml"})
# Another Office package, by a word of its main part's content type, for a .docx renamed
_OTHER_PACKAGES = (("spreadsheetml", "an Excel workbook"), ("ms-excel", "an Excel workbook"),
                   ("presentationml", "a PowerPoint presentation"),
                   ("ms-powerpoint", "a PowerPoint presentation"))


def read_docx(path: Path, data: bytes, depth: int = 0) -> Extracted:
    from docx.opc.exceptions import PackageNotFoundError
    from lxml.etree import XMLSyntaxError

    _keep_imported_parts_as_bytes()
    if not zipfile.is_zipfile(path):
        if _word97(path):  # a .doc renamed .docx: Word opens it, and so does policyqa
            from .doc import read_doc

            return read_doc(path, data)
        raise DocumentError(_not_a_package(path))
    try:
        document = _word_document(path)
        if getattr(document.element, "body", None) is None:
            raise ValueError("no document body (word/document.xml holds no w:body)")
    # Opening parses every part: a cut-off download or a bad sync shows as a broken ZIP entry
    # (zlib.error), broken XML (lxml's XMLSyntaxError) or a missing part.
    except (PackageNotFoundError, KeyError, ValueError, AttributeError, zipfile.BadZipFile,
            zlib.error, XMLSyntaxError) as exc:
        raise DocumentError(f"damaged Word file ({type(exc).__name__}: {exc})") from exc
    numbering = _Numbering(document)
    notes = _Notes(document)
    looks = _LookedHeadings(document)
    parts: list[str] = []
    blocks: list[Block] = []
    offset = 0

    page_marks: list[int] = []  # raw offsets where Word's pages began (_RENDERED_BREAK)
    pending = 0  # page breaks found before the text they stand at has been added
    # (the index in `blocks` of a section's first block, its properties) for each section but
    # the last, whose properties are the body's own
    sections: list[tuple[int, object]] = [(0, None)]

    def add(text: str, kind: str, level: int = 0, marker: str = "", sep: str = "\n\n") -> None:
        nonlocal offset, pending
        if parts:
            parts.append(sep)
            offset += len(sep)
        page_marks.extend([offset] * pending)
        pending = 0
        parts.append(text)
        blocks.append(Block(offset, offset + len(text), kind, level, marker))
        offset += len(text)

    from docx.text.paragraph import Paragraph

    warnings: list[str] = []
    read_objects: set = set()  # the embedded objects read where they stand
    for element in _content(document.element.body, (f"{_W}p", f"{_W}tbl", f"{_W}altChunk"),
                            skip_toc=True):
        if element.tag == f"{_W}altChunk":
            chunk, why = _alt_chunk(document, element, depth)
            if why:
                warnings.append(why)
            for n, block in enumerate(chunk.blocks if chunk else []):
                before = chunk.blocks[n - 1].end if n else block.start
                add(chunk.raw[block.start:block.end], block.kind, block.level, block.marker,
                    sep=chunk.raw[before:block.start] or "\n\n")
        elif element.tag == f"{_W}p":
            para = Paragraph(element, document)
            breaks: list[int] = []
            whole = paragraph_text(element, _style_caps(para), breaks)
            text = whole.strip()
            lead = len(whole) - len(whole.lstrip())
            within = [min(b - lead, len(text)) for b in breaks if b > lead]  # past its start
            pending += len(breaks) - len(within)
            ends = element.find(f"{_W}pPr/{_W}sectPr")  # the last paragraph of a section
            if ends is not None:
                sections[-1] = (sections[-1][0], ends)
            if _is_toc_entry(para):
                if ends is not None:
                    sections.append((len(blocks), None))
                continue
            referred = notes.referred(element)
            if text:
                kind, level = _heading(para)
                shown, marker, list_level = numbering.render(para)
                if not kind and shown is None:
                    kind, level = looks.classify(para, text)
                if kind:
                    numbered = shown and shown != "\u2022"
                    add(f"{shown} {text}" if numbered else text, kind, level)
                elif shown is None:
                    add(text, "body")
                else:
                    add(f"{shown} {text}" if shown else text, "item", list_level, marker)
                end = blocks[-1].end  # a page that begins within the paragraph begins there
                page_marks.extend(end - len(text) + at for at in within)
            else:
                pending += len(within)
            for line in text_boxes(element) + _diagrams(document, element):
                add(line, "body")
            for ole, rows in _embedded_sheets(document, element):
                read_objects.add(ole)
                for n, line in enumerate(rows):
                    add(line, "body", sep="\n\n" if n == 0 else "\n")
            for note in referred:
                add(note, "body")
            if ends is not None:
                sections.append((len(blocks), None))
        elif labelled := _label_rows(element):
            under = next((b.level for b in reversed(blocks) if b.kind in ("title", "heading")), 0)
            for tr, label, cell in labelled:
                atop, within = row_breaks(tr, _RENDERED_BREAK, _NOT_READ)
                pending += atop
                add(label, "heading", under + 1)
                for line in _cell_paragraphs(cell):
                    add(line, "body", sep="\n")
                for line in text_boxes(tr) + _diagrams(document, tr):
                    add(line, "body")
                for note in notes.referred(tr):
                    add(note, "body")
                pending += within
        else:
            first = True
            for tr in _content(element, (f"{_W}tr",)):
                cells = _row_cells(tr)
                referred = notes.referred(tr)
                # a page that begins before a row's first word begins with the row; one that
                # begins within it (a row split over two pages), after it (formats.row_breaks)
                atop, within = row_breaks(tr, _RENDERED_BREAK, _NOT_READ)
                pending += atop
                if any(cells):
                    add("\t".join(cells), "body", sep="\n\n" if first else "\n")
                    first = False
                for line in text_boxes(tr) + _diagrams(document, tr):
                    add(line, "body")
                    first = True
                for note in referred:
                    add(note, "body")
                    first = True  # the table's next row starts a paragraph again
                pending += within
    page_starts = ([(0, 1)] + [(at, n) for n, at in enumerate(page_marks, start=2)]
                   if page_marks else [])
    sections[-1] = (sections[-1][0], document.element.body.find(f"{_W}sectPr"))
    starts = [blocks[first].start if first < len(blocks) else offset for first, _ in sections]
    return Extracted(raw="".join(parts), format="docx", meta=_properties(document),
                     blocks=blocks, page_starts=page_starts, pages=len(page_starts),
                     page_labels=page_labels(page_starts, [
                         _numbering(at, props) for at, (_, props) in zip(starts, sections,
                                                                         strict=True)]),
                     warnings=notes.warnings + warnings + _embedded_objects(document.element.body,
                                                                         read_objects))


_OLE = "{urn:schemas-microsoft-com:office:office}OLEObject"
# What an embedded object's ProgID names, as Word's "Insert > Object" lists it
_OBJECT_KINDS = (("excel.", "an Excel worksheet"), ("acroexch.", "a PDF"), ("acrobat.", "a PDF"),
                 ("word.", "a Word document"), ("powerpoint.", "a PowerPoint presentation"),
                 ("package", "a file"), ("visio.", "a Visio drawing"))


def _embedded_sheets(document, paragraph):
    """(object, lines) for each Excel worksheet embedded in a paragraph (Insert > Object > Excel
    worksheet, or cells pasted from Excel or Calc as an object) that is a workbook openpyxl
    reads: the rows of the sheet it shows, as a table's lines (formats/sheets.py). Word shows
    it as a picture of those cells; left unread, the rota or fee table was no text at all."""
    for ole in paragraph.iter(_OLE):
        if not (ole.get("ProgID") or "").lower().startswith("excel.sheet") or _deleted(ole):
            continue
        part = document.part.related_parts.get(ole.get(f"{_REL}id") or "")
        if part is None or part.content_type != _XLSX_PART:
            continue  # an Excel 97-2003 sheet inside an OLE container: named, not read
        try:
            yield ole, sheet_lines(xlsx_rows(part.blob))
        except DocumentError:
            continue  # named among the objects not read


_XLSX_PART = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
_DGM = "{http://schemas.openxmlformats.org/drawingml/2006/diagram}"
_A = "{http://schemas.openxmlformats.org/drawingml/2006/main}"


def _diagrams(document, element) -> list[str]:
    """The text of the SmartArt graphics in a paragraph or table row (Insert > SmartArt: a
    procedure's steps as a process, a chain of contacts as a hierarchy), each shape's text a
    line, in the order the graphic reads: from its root, each shape before the ones under it,
    siblings in their order; after the paragraph or row, as a text box's. Word keeps that text
    in a part of its own (the diagram's data model), not in the document's runs, so
    python-docx, and this reader before, lost it without a word."""
    from lxml import etree

    lines: list[str] = []
    for ids in element.iter(f"{_DGM}relIds"):
        if _deleted(ids) or any(a.tag == f"{_MC}Fallback" for a in ids.iterancestors()):
            continue
        part = document.part.related_parts.get(ids.get(f"{_REL}dm") or "")
        if part is None:
            continue
        try:
            model = etree.fromstring(part.blob, etree.XMLParser(resolve_entities=False,
                                                                no_network=True))
        except etree.XMLSyntaxError:
            continue
        lines += _diagram_lines(model)
    return lines


def _diagram_lines(model) -> list[str]:
    """A diagram data model's shape texts in reading order (see _diagrams)."""
    points = {pt.get("modelId"): pt for pt in model.iter(f"{_DGM}pt")}
    children: dict[str, list[tuple[int, str]]] = {}
    for cxn in model.iter(f"{_DGM}cxn"):
        if cxn.get("type", "parOf") == "parOf":
            order = cxn.get("srcOrd", "0")
            children.setdefault(cxn.get("srcId"), []).append(
                (int(order) if order.isdigit() else 0, cxn.get("destId")))
    roots = [key for key, pt in points.items() if pt.get("type") == "doc"]
    lines: list[str] = []
    seen: set[str] = set()

    def visit(key: str) -> None:
        for _order, child in sorted(children.get(key, [])):
            pt = points.get(child)
            if child in seen or pt is None or pt.get("type", "node") not in ("node", "asst"):
                continue
            seen.add(child)
            texts = ["".join(t.text or "" for t in p.iter(f"{_A}t")) for p in
                     pt.iterfind(f"{_DGM}t/{_A}p")]
            line = " ".join(" ".join(texts).split())
            if line:
                lines.append(line)
            visit(child)

    for root in roots:
        visit(root)
    return lines


def _embedded_objects(body, read=frozenset()) -> list[str]:
    """A warning naming the objects embedded in the document (Insert > Object: a form as a PDF,
    a rota as an Excel worksheet), which Word shows as an icon or a picture of their first page,
    and whose contents are not read (the Excel worksheets `read` holds are). Left unnamed, a
    policy's form or table was missing without a word."""
    kinds = []
    for ole in body.iter(_OLE):
        if ole in read or _deleted(ole):
            continue  # read where it stands, or in a tracked deletion: not shown
        prog = (ole.get("ProgID") or "").lower()
        kinds.append(next((name for start, name in _OBJECT_KINDS if prog.startswith(start)),
                          f"a {ole.get('ProgID') or 'object'}"))
    out = [f"its {len(kinds)} embedded object(s) ({counted(kinds)}) are not read: Word shows "
           "them as icons or pictures; paste their text into the document, or save them into "
           "the corpus folder"] if kinds else []
    equations = [m for m in body.iter(_MATH) if not _deleted(m)
                 and not any(parent.tag == _MATH for parent in m.iterancestors())]
    if equations:  # Insert > Equation: Office Math, not text runs
        out.append(f"its {len(equations)} equation(s) are not read: write a formula staff need "
                   "to find out in words")
    return out


_MATH = "{http://schemas.openxmlformats.org/officeDocument/2006/math}oMath"


# Word's page number formats (w:pgNumType w:fmt), as formats.list_marker names them
_PAGE_FORMATS = {"lowerRoman": "lower-roman", "upperRoman": "upper-roman",
                 "lowerLetter": "lower-alpha", "upperLetter": "upper-alpha"}


def _numbering(start: int, properties) -> tuple[int, str, int | None]:
    """A section's page numbering (w:pgNumType: its format, the number it restarts at) from the
    raw offset it begins at, for formats.page_labels."""
    kind = properties.find(f"{_W}pgNumType") if properties is not None else None
    fmt = kind.get(f"{_W}fmt", "decimal") if kind is not None else "decimal"
    restart = kind.get(f"{_W}start") if kind is not None else None
    return (start, _PAGE_FORMATS.get(fmt, "decimal"),
            int(restart) if restart and restart.isdigit() else None)


def _deleted(element) -> bool:
    """Whether an element stands in a tracked deletion (not shown)."""
    return any(parent.tag == f"{_W}del" for parent in element.iterancestors())


_CHUNK_DEPTH = 3  # an imported Word file may import others; no further than this
_RT_IMPORTED = "http://schemas.openxmlformats.org/officeDocument/2006/relationships/aFChunk"


def _word_document(path: Path):
    """The python-docx Document of any Word package (_WORD_MAIN): a macro-enabled document or a
    template is read as the document it is; its macros are never run (only its XML is read).
    Raises DocumentError naming what a package of another kind is (an Excel workbook renamed)."""
    from docx.package import Package
    from docx.parts.document import DocumentPart

    part = Package.open(str(path)).main_document_part
    if not isinstance(part, DocumentPart):
        kind = part.content_type
        what = next((name for word, name in _OTHER_PACKAGES if word in kind.lower()),
                    f"a package of another kind ({kind})")
        raise DocumentError(f"not a Word file: it is {what} named {path.suffix}")
    return part.document


def _keep_imported_parts_as_bytes() -> None:
    """Have python-docx load an imported part (an altChunk's) as bytes, whatever its content
    type. An imported Word file carries the main document's content type, so python-docx parsed
    the ZIP as XML and the whole file was named "damaged Word file (XMLSyntaxError ...)".
    Also have it load the main part of every Word package (_WORD_MAIN) as a document.
    Chained before python-docx's own selector (its images); installed once."""
    from docx.opc.constants import RELATIONSHIP_TYPE as RT
    from docx.opc.part import Part, PartFactory
    from docx.parts.document import DocumentPart

    previous = PartFactory.part_class_selector
    if getattr(previous, "keeps_imported_parts", False):
        return

    def selector(content_type: str, reltype: str):
        if reltype == _RT_IMPORTED:
            return Part
        if reltype == RT.OFFICE_DOCUMENT and content_type in _WORD_MAIN:
            return DocumentPart
        return previous(content_type, reltype) if previous else None

    selector.keeps_imported_parts = True
    PartFactory.part_class_selector = selector


def _alt_chunk(document, element, depth: int) -> tuple[Extracted | None, str]:
    """An imported part (w:altChunk) as its own format reads, or why it is not read. Programs
    that write Word files from web content (policy systems' exports, mail merges) leave a web
    page, a web archive or another Word file in the package, for Word to pour into the document
    where it stands when the file is opened. python-docx (and LibreOffice) skip it, so its text,
    often the whole policy, was lost without a word. Word saves the file with the part's text
    in place of it."""
    rid = element.get(f"{_REL}id")
    part = document.part.related_parts.get(rid) if rid else None
    if part is None:
        return None, "an imported part (altChunk) the file does not hold"
    kind = part.content_type.split(";")[0].strip().lower()
    if kind in ("text/html", "application/xhtml+xml"):
        from .html import read_html

        return read_html(part.blob), ""
    if kind in ("message/rfc822", "multipart/related"):
        from .html import read_mhtml

        return read_mhtml(part.blob), ""
    if kind == _DOCX_PART and depth < _CHUNK_DEPTH:
        with tempfile.NamedTemporaryFile(suffix=".docx") as tmp:
            tmp.write(part.blob)
            tmp.flush()
            return read_docx(Path(tmp.name), part.blob, depth + 1), ""
    return None, (f"an imported part ({kind}, altChunk) is not read: open the file in Word and "
                  "save it, which writes the part's text into the document")


def _properties(document) -> dict:
    """The title and date the file's properties state. A file with no properties part (another
    program's writer) has none: python-docx would make up its own ("Word Document", today)."""
    from docx.opc.constants import RELATIONSHIP_TYPE as RT

    if not any(rel.reltype == RT.CORE_PROPERTIES for rel in document.part.package.rels.values()):
        return {}
    props = document.core_properties
    meta = {}
    if props.title and props.title.strip():
        meta["title"] = props.title.strip()
    when = props.modified or props.created
    if when:
        meta["date"] = when.date().isoformat()
    return meta


def ole_streams(path: Path) -> set[str]:
    """The top-level streams of an OLE compound file (empty for any other file); a damaged one
    raises olefile's error (an OSError). Word saves a password-protected document as one holding
    the encrypted package ("EncryptedPackage"), and a Word 97-2003 document is one too
    ("WordDocument")."""
    import olefile

    if not olefile.isOleFile(str(path)):
        return set()
    with olefile.OleFileIO(str(path)) as ole:
        return {entry[0] for entry in ole.listdir() if len(entry) == 1}


def _streams(path: Path) -> set[str]:
    try:
        return ole_streams(path)
    except Exception:  # noqa: BLE001 - a damaged compound file: the general reason
        return set()


def _word97(path: Path) -> bool:
    return "WordDocument" in _streams(path)


def _not_a_package(path: Path) -> str:
    """Why a .docx that is no ZIP package (nor a .doc renamed) cannot be read."""
    if "EncryptedPackage" in _streams(path):
        return "password-protected Word file (a password is needed to open it)"
    return "not a Word .docx file (not a ZIP package, nor a Word 97-2003 document)"


_WRAPPERS = {f"{_W}sdt", f"{_W}sdtContent", f"{_W}customXml"}
_MC = "{http://schemas.openxmlformats.org/markup-compatibility/2006}"
# What a row's page breaks are not counted in: its text boxes and what is not shown
_NOT_READ = frozenset({f"{_W}txbxContent", f"{_W}del", f"{_W}moveFrom", f"{_MC}Fallback"})
# Not text a reader sees: tracked deletions and moves away, properties, and the fallback copy of
# markup-compatibility content (its mc:Choice holds the same text).
_NOT_SHOWN = {f"{_W}del", f"{_W}moveFrom", f"{_W}pPr", f"{_W}rPr", f"{_W}sdtPr", f"{_W}sdtEndPr",
              f"{_MC}Fallback"}
_TOC_STYLE = re.compile(r"(toc\s*\d|toc heading|table of figures)$", re.I)


def _content(parent, tags: tuple[str, ...], skip_toc: bool = False):
    """`parent`'s children with these tags, read through content controls and custom XML
    (Word wraps template fields, cover pages and whole sections in them)."""
    for child in parent.iterchildren():
        if child.tag in tags:
            yield child
        elif child.tag in _WRAPPERS:
            if skip_toc and child.tag == f"{_W}sdt" and _is_toc_control(child):
                continue
            yield from _content(child, tags, skip_toc)


def _is_toc_control(sdt) -> bool:
    gallery = sdt.find(f"{_W}sdtPr/{_W}docPartObj/{_W}docPartGallery")
    return gallery is not None and "contents" in gallery.get(f"{_W}val", "").lower()


def _is_toc_entry(para) -> bool:
    """A paragraph of Word's generated contents list (styles "TOC 1".."TOC 9", "TOC Heading")."""
    return bool(para.style is not None and _TOC_STYLE.match(para.style.name or ""))


def paragraph_text(p, caps: bool = False, breaks: list[int] | None = None) -> str:
    """The text Word shows for a paragraph element: its runs in order, wherever they are nested
    (hyperlinks, content controls, fields, smart tags, tracked insertions), less tracked
    deletions and hidden runs. Runs are not entered: a text box's paragraphs are not this
    paragraph's text (text_boxes reads them). A run set in All Caps (its own w:caps, else the
    paragraph style's, `caps`) shows in capitals: a template's Heading 1 typed "purpose" reads
    "PURPOSE", as Word and its PDF show it, and is cited "Purpose", not "purpose". `breaks`, if
    given, gets the position in that text of each page break Word rendered in the paragraph."""
    out: list[str] = []

    def walk(node) -> None:
        for child in node.iterchildren():
            if child.tag == f"{_W}r":
                if not _hidden(child):
                    if breaks is not None and child.find(_RENDERED_BREAK) is not None:
                        before = sum(map(len, out))
                        breaks.extend(before + len(run_text(child, upto=mark))
                                      for mark in child.iterchildren(_RENDERED_BREAK))
                    text = run_text(child)
                    out.append(text.upper() if _flag(child.find(f"{_W}rPr/{_W}caps"), caps)
                               else text)
            elif child.tag not in _NOT_SHOWN:
                walk(child)

    walk(p)
    return "".join(out)


def _flag(node, default: bool) -> bool:
    """An on/off property (w:caps, w:b...): on unless its value says off; `default` if unset."""
    if node is None:
        return default
    return node.get(f"{_W}val", "true") not in ("0", "false", "off")


def _style_caps(para) -> bool:
    """Whether the paragraph's style (or a style it is based on) sets All Caps."""
    for style in _lineage(para.style):
        rpr = style.element.rPr
        node = rpr.find(f"{_W}caps") if rpr is not None else None
        if node is not None:
            return _flag(node, False)
    return False


_RUN_TEXT = {f"{_W}{tag}" for tag in ("t", "tab", "cr", "noBreakHyphen", "ptab")}
# Where a page began when Word last laid the document out (it writes one at each page break,
# soft or hard, on saving)
_RENDERED_BREAK = f"{_W}lastRenderedPageBreak"


def run_text(run, upto=None) -> str:
    """A run's text as Word shows it. python-docx's `run.text` gives a page or column break as
    nothing, so "incident report" [page break] "within 24 hours" read "reportwithin"; here any
    break is a line break. A symbol inserted from a symbol font (w:sym: Insert > Symbol) is
    the character it shows ("aged ≥ 18", not "aged  18"). `upto`: the text before that child."""
    out = []
    for child in run.iterchildren():
        if child is upto:
            break
        if child.tag == f"{_W}br":
            out.append("\n")
        elif child.tag in _RUN_TEXT:
            out.append(str(child))
        elif child.tag == f"{_W}sym":
            out.append(_symbol(child.get(f"{_W}font", ""), child.get(f"{_W}char", "")))
    return "".join(out)


# Wingdings' ticks and crosses, what a form's check boxes are made of.
_WINGDINGS = {0xFB: "\u2717", 0xFC: "\u2713", 0xFD: "\u2612", 0xFE: "\u2611"}


def _symbol(font: str, char: str) -> str:
    """The character a w:sym shows: its code in the Symbol font's own encoding (Adobe's, as
    pypdf holds it: 0xB3 "≥"), in Wingdings' for ticks and crosses, or as the Unicode character
    Word wrote. Word writes a symbol font's codes from F000 ("F0B3")."""
    try:
        code = int(char, 16)
    except ValueError:
        return ""
    low = code - 0xF000 if code >= 0xF000 else code
    name = font.strip().lower()
    if name == "symbol" and 0x20 <= low <= 0xFF:
        from pypdf._codecs import _symbol_encoding  # Adobe's Symbol encoding

        return _symbol_encoding[low] if _symbol_encoding[low].isprintable() else ""
    if name.startswith("wingdings"):
        return _WINGDINGS.get(low, "")
    return chr(code) if code < 0xE000 or code > 0xF8FF else ""

def text_boxes(element) -> list[str]:
    """The text of the text boxes anchored in a paragraph or table row, in order: each paragraph
    of a box a line (a table row in a box its cells, tab-separated), empty ones dropped. A box
    inside a box follows the paragraph it is anchored in. A box's fallback copy (mc:Fallback) and
    boxes in tracked deletions are not read."""
    out: list[str] = []

    def read(box) -> None:
        for child in _content(box, (f"{_W}p", f"{_W}tbl")):
            if child.tag == f"{_W}p":
                out.append(paragraph_text(child).strip())
                out.extend(text_boxes(child))
            else:
                for tr in _content(child, (f"{_W}tr",)):
                    out.append("\t".join(_row_cells(tr)))

    def find(node) -> None:
        for child in node.iterchildren():
            if child.tag == f"{_W}txbxContent":
                read(child)
            elif child.tag not in _NOT_SHOWN:
                find(child)

    find(element)
    return [line for line in out if line.strip()]


class _Notes:
    """Footnotes and endnotes by id, numbered as Word numbers them: in order of reference, in the
    format the document's settings give (Word's defaults: 1, 2, 3 for footnotes and i, ii, iii
    for endnotes); a reference with its own mark (customMarkFollows) shows that mark."""

    KINDS = (("footnote", RT_FOOTNOTES, "decimal"), ("endnote", RT_ENDNOTES, "lowerRoman"))
    _SKIP = {"separator", "continuationSeparator", "continuationNotice"}

    def __init__(self, document):
        from docx.oxml.parser import parse_xml
        from lxml.etree import XMLSyntaxError

        self.warnings: list[str] = []
        self.texts: dict[tuple[str, str], str] = {}
        self.counts = {kind: 0 for kind, _r, _f in self.KINDS}
        self.formats: dict[str, str] = {}
        settings = document.settings.element
        for kind, reltype, default in self.KINDS:
            self.formats[kind] = _note_format(settings, kind, default)
            try:
                part = document.part.part_related_by(reltype)
            except KeyError:
                continue
            try:
                root = part.element if hasattr(part, "element") else parse_xml(part.blob)
            except XMLSyntaxError as exc:  # the rest of the document is still read
                self.warnings.append(f"its {kind}s could not be read (damaged {kind}s part: "
                                     f"{exc})")
                continue
            for note in root.findall(f"{_W}{kind}"):
                if note.get(f"{_W}type") in self._SKIP:
                    continue
                paragraphs = (paragraph_text(p).strip() for p in note.iter(f"{_W}p"))
                text = " ".join(t for t in paragraphs if t)
                if text:
                    self.texts[(kind, note.get(f"{_W}id"))] = text

    def referred(self, element) -> list[str]:
        """The notes `element` refers to, in order, each as shown: its mark, a space, its text.
        Every reference advances its kind's number, whether or not its note has text."""
        out = []
        for run, ref in _references(element):
            kind = "footnote" if ref.tag == f"{_W}footnoteReference" else "endnote"
            custom = ref.get(f"{_W}customMarkFollows") in ("1", "true", "on")
            if not custom:
                self.counts[kind] += 1
            text = self.texts.get((kind, ref.get(f"{_W}id")))
            if text is not None:
                mark = run_text(run).strip() if custom else _format_number(
                    self.counts[kind], self.formats[kind])
                out.append(f"{mark} {text}" if mark else text)
        return out


def _note_format(settings, kind: str, default: str) -> str:
    props = settings.find(f"{_W}{kind}Pr")
    return _val(props, "numFmt", default) if props is not None else default


def _references(element):
    """(run, footnote or endnote reference) in the runs Word shows, in document order."""
    tags = (f"{_W}footnoteReference", f"{_W}endnoteReference")
    for child in element.iterchildren():
        if child.tag == f"{_W}r":
            if not _hidden(child):
                for ref in child.iterchildren(*tags):
                    yield child, ref
        elif child.tag not in _NOT_SHOWN:
            yield from _references(child)


def _hidden(run) -> bool:
    return _flag(run.find(f"{_W}rPr/{_W}vanish"), False)


def _cell_text(tc) -> str:
    """A cell's paragraphs, nested tables and content controls included, on one line."""
    paragraphs = []

    def walk(node) -> None:
        for child in node.iterchildren():
            if child.tag == f"{_W}p":
                paragraphs.append(paragraph_text(child))
            elif child.tag != f"{_W}tcPr":
                walk(child)

    walk(tc)
    return " ".join(" ".join(paragraphs).split())


def _label_rows(table) -> list[tuple]:
    """(row, label, text cell) for each row of a table that lays a policy's text out under its
    labels (formats.label_table: two cells a row); [] for any other table."""
    rows = []
    for tr in _content(table, (f"{_W}tr",)):
        cells = list(_content(tr, (f"{_W}tc",)))
        if len(cells) != 2:
            return []
        rows.append((tr, _cell_text(cells[0]), cells[1]))
    return rows if label_table([(label, _cell_text(cell)) for _, label, cell in rows]) else []


def _cell_paragraphs(tc) -> list[str]:
    """A cell's non-empty paragraphs, nested tables' too, each on its own line."""
    lines = []

    def walk(node) -> None:
        for child in node.iterchildren():
            if child.tag == f"{_W}p":
                if text := " ".join(paragraph_text(child).split()):
                    lines.append(text)
            elif child.tag != f"{_W}tcPr":
                walk(child)

    walk(tc)
    return lines


def _row_cells(tr) -> list[str]:
    """A row's cell texts as Word shows them: a cell spanning several grid columns once, and a
    cell merged down from the row above (vMerge "continue") empty, so that its words stand once in
    the text, where Word prints them, and the row's other cells keep their columns."""
    cells = []
    for tc in _content(tr, (f"{_W}tc",)):
        merge = tc.find(f"{_W}tcPr/{_W}vMerge")
        continued = merge is not None and merge.get(f"{_W}val", "continue") == "continue"
        cells.append("" if continued else _cell_text(tc))
    return cells


class _LookedHeadings:
    """Headings a document shows by bold type alone, for documents that use no heading style.
    An unnumbered one's level is its depth by type size (size_depths): an author who types a
    section's heading in 14 pt and its sub-headings in 12 pt nests them so."""

    def __init__(self, document):
        from docx.text.paragraph import Paragraph

        body = document.element.body
        paragraphs = [Paragraph(p, document) for p in _content(body, (f"{_W}p",), skip_toc=True)]
        kinds = {_heading(p)[0] for p in paragraphs}
        self.active = "heading" not in kinds
        self.first = "title" not in kinds  # a styled title is the title
        self.rest_size: float | None = None  # the largest size of the other looked headings
        self.depth: dict = {}  # paragraph element -> its depth by type size (size_depths)
        if self.active:
            looked = [p for p in paragraphs
                      if _looked_level(p, paragraph_text(p._p, _style_caps(p)).strip()) is not None]
            self.rest_size = max((_size(p) for p in looked[1:]), default=None)
            titled = (self.first and self.rest_size is not None
                      and _size(looked[0]) > self.rest_size)
            # a size set nowhere is the document's default (docDefaults), not zero
            defaults = document.styles.element.find(
                f"{_W}docDefaults/{_W}rPrDefault/{_W}rPr/{_W}sz")
            default = _points(defaults.get(f"{_W}val", "")) if defaults is not None else 0.0
            headings = looked[1 if titled else 0:]
            self.depth = dict(zip([p._p for p in headings],
                                  size_depths([_size(p) or default for p in headings]),
                                  strict=True))

    def classify(self, para, text: str) -> tuple[str, int]:
        """("title", 0), ("heading", level) or ("", 0) for a paragraph with no heading style."""
        if not self.active:
            return "", 0
        first, self.first = self.first, False
        level = _looked_level(para, text)
        if level is None:
            return "", 0
        if first and self.rest_size is not None and _size(para) > self.rest_size:
            return "title", 0
        if not numbered_heading(text):
            level += self.depth.get(para._p, 0)
        return "heading", level


def _looked_level(para, text: str) -> int | None:
    """looked_heading_level for a paragraph wholly in bold, else None."""
    level = looked_heading_level(text)
    return level if level is not None and _all_bold(para, text) else None


def _lineage(style):
    """A style and the styles it is based on, nearest first. Once each: a style based on itself,
    or two based on each other (a damaged or hand-edited styles.xml), ends the chain instead of
    looping for ever."""
    seen = set()
    while style is not None and id(style.element) not in seen:
        seen.add(id(style.element))
        yield style
        style = style.base_style


def _number(value: str | None, default: int) -> int:
    """A whole number Word wrote, or `default` where the attribute is empty or not a number."""
    value = (value or "").strip()
    return int(value) if value.isdigit() else default


def _points(value: str) -> float:
    """A font size in points from w:sz: half-points ("22"), or a measure with its unit ("11pt",
    which the standard allows); 0 where unreadable."""
    value = value.strip()
    try:
        return float(value[:-2]) if value.endswith("pt") else float(value) / 2
    except ValueError:
        return 0.0


def _style_value(style, get):
    """A font property from a style or the styles it is based on (None: not set anywhere)."""
    for each in _lineage(style):
        value = get(each.font)
        if value is not None:
            return value
    return None


def _all_bold(para, text: str) -> bool:
    """Every run with text is bold: by itself, its character style or the paragraph's style.
    Text outside plain runs (a hyperlink, a field) counts as not bold."""
    runs = [r for r in para.runs if run_text(r._r).strip()]
    if not runs or "".join(run_text(r._r) for r in para.runs).strip() != text:
        return False
    paragraph_bold = _style_value(para.style, lambda f: f.bold)
    for run in runs:
        bold = run.bold
        if bold is None and run.style is not None:
            bold = _style_value(run.style, lambda f: f.bold)
        if not (bold if bold is not None else paragraph_bold):
            return False
    return True


def _size(para) -> float:
    """The largest font size (points) of the paragraph's runs; 0 where none is set."""
    style_size = _style_value(para.style, lambda f: f.size)
    sizes = [r.font.size or style_size for r in para.runs if run_text(r._r).strip()]
    return max((s.pt for s in sizes if s is not None), default=0.0)


def _heading(para) -> tuple[str, int]:
    """("title", 0), ("heading", level) or ("", 0), from the style (or its base styles), else
    the outline level of the paragraph or of its style: an agency template's own heading styles
    ("Policy Section", "Policy Subsection") are often no Heading N, but set the outline level
    that Word's navigation pane and table of contents go by."""
    styles = []
    for style in _lineage(para.style):
        name = style.name or ""
        if name.lower() == "title":
            return "title", 0
        m = _HEADING_STYLE.search(name)
        if m:
            return "heading", int(m.group(1))
        styles.append(style)
    for ppr in [para._p.pPr] + [s.element.pPr for s in styles]:
        outline = ppr.find(f"{_W}outlineLvl") if ppr is not None else None
        if outline is not None:
            value = _number(outline.get(f"{_W}val"), 9)
            return ("heading", value + 1) if value < 9 else ("", 0)
    return "", 0


# Word's w:numFmt values, as list_marker styles.
_WORD_STYLES = {"lowerLetter": "lower-alpha", "upperLetter": "upper-alpha",
                "lowerRoman": "lower-roman", "upperRoman": "upper-roman",
                "decimalZero": "decimal-zero"}


def _format_number(value: int, fmt: str) -> str:
    return list_marker(value, _WORD_STYLES.get(fmt, "decimal"))


class _Numbering:
    """Word's list numbering, replayed in document order: each list keeps a counter per level,
    and a deeper level restarts when a shallower one advances. A list is an abstract numbering
    definition: the numbering instances (w:num) made from one share its counters, and one that
    overrides a level's start ("Restart at 1") restarts that level where it is first used.
    LibreOffice saves a restarted list so: its first item in an instance that restarts, the
    rest in the list's own, and Word shows them 1, 2, 3, 4 (read 1, 1, 2, 3 before)."""

    def __init__(self, document):
        self.levels: dict[str, dict[int, tuple[int, str, str]]] = {}  # numId -> ilvl -> def
        self.abstract: dict[str, str] = {}  # numId -> the abstract list it is an instance of
        self.restarts: dict[str, set[int]] = {}  # numId -> levels it restarts (startOverride)
        self.counters: dict[str, list[int]] = {}  # abstract list -> counter per level
        # A multilevel list linked to heading styles names the style of each level (w:pStyle);
        # "Heading 2" then takes level 1 without saying so on the paragraph or the style.
        self.style_levels: dict[str, int] = {}
        try:
            root = document.part.numbering_part.element
        except (KeyError, NotImplementedError, AttributeError):
            return
        abstract: dict[str, dict[int, tuple[int, str, str]]] = {}
        for node in root.findall(f"{_W}abstractNum"):
            levels = {}
            for lvl in node.findall(f"{_W}lvl"):
                ilvl = min(_number(lvl.get(f"{_W}ilvl"), 0), 8)  # Word has levels 0-8
                start = _val(lvl, "start", "1")
                fmt = _val(lvl, "numFmt", "decimal")
                text = _val(lvl, "lvlText", f"%{ilvl + 1}.")
                levels[ilvl] = (int(start) if start.isdigit() else 1, fmt, text)
                style = _val(lvl, "pStyle", "")
                if style:
                    self.style_levels[style] = ilvl
            abstract[node.get(f"{_W}abstractNumId")] = levels
        for num in root.findall(f"{_W}num"):
            ref = num.find(f"{_W}abstractNumId")
            if ref is None:
                continue
            levels = dict(abstract.get(ref.get(f"{_W}val"), {}))
            num_id = num.get(f"{_W}numId")
            self.abstract[num_id] = ref.get(f"{_W}val")
            self.restarts[num_id] = set()
            for override in num.findall(f"{_W}lvlOverride"):
                ilvl = min(_number(override.get(f"{_W}ilvl"), 0), 8)
                start = override.find(f"{_W}startOverride")
                if start is not None and ilvl in levels:
                    _s, fmt, text = levels[ilvl]
                    levels[ilvl] = (_number(start.get(f"{_W}val"), 1), fmt, text)
                    self.restarts[num_id].add(ilvl)
            self.levels[num_id] = levels

    def render(self, para) -> tuple[str | None, str, int]:
        """(shown number text or "" for a bullet, marker to cite, list level) for a list
        paragraph; (None, "", 0) for one that is not in a list."""
        num_id, ilvl = _num_pr(para)
        if num_id is None or num_id == "0" or num_id not in self.levels:
            return None, "", 0
        if ilvl is None:
            style_id = para.style.style_id if para.style is not None else ""
            ilvl = self.style_levels.get(style_id, 0)
        levels = self.levels[num_id]
        if ilvl not in levels:
            return "\u2022", "", ilvl
        counters = self.counters.setdefault(self.abstract[num_id], [0] * 9)
        if ilvl in self.restarts[num_id]:  # "Restart at 1": once, where the instance begins
            self.restarts[num_id].discard(ilvl)
            counters[ilvl] = 0
        for deeper in range(ilvl + 1, 9):
            counters[deeper] = 0
        start, fmt, text = levels[ilvl]
        counters[ilvl] = start if counters[ilvl] == 0 else counters[ilvl] + 1
        if fmt in ("bullet", "none"):
            return "\u2022" if fmt == "bullet" else "", "", ilvl

        def value(m: re.Match) -> str:
            level = int(m.group(1)) - 1
            lstart, lfmt, _t = levels.get(level, (1, "decimal", ""))
            return _format_number(counters[level] or lstart, lfmt)

        shown = re.sub(r"%([1-9])", value, text).strip()
        if len(set(re.findall(r"%([1-9])", text))) > 1:  # "%1.%2": legal numbering, "1.2"
            return shown, shown.strip(".)"), ilvl  # cited by its whole number, as shown
        return shown, _format_number(counters[ilvl], fmt), ilvl


def _val(node, tag: str, default: str) -> str:
    child = node.find(f"{_W}{tag}")
    return child.get(f"{_W}val", default) if child is not None else default


def _num_pr(para) -> tuple[str | None, int | None]:
    """The paragraph's list (numId) and level, set on the paragraph or by its style (None when
    neither states a level)."""
    ppr = para._p.pPr
    nodes = [ppr] if ppr is not None else []
    for style in _lineage(para.style):  # a list style ("List Number") carries its numbering
        style_ppr = style.element.pPr
        if style_ppr is not None:
            nodes.append(style_ppr)
    num_id, ilvl = None, None
    for node in nodes:
        num_pr = node.find(f"{_W}numPr")
        if num_pr is None:
            continue
        if num_id is None:
            num_id = _val(num_pr, "numId", "") or None
        if ilvl is None and num_pr.find(f"{_W}ilvl") is not None:
            ilvl = min(_number(_val(num_pr, "ilvl", "0"), 0), 8)
    return num_id, ilvl
