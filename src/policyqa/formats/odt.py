"""OpenDocument text (.odt, and its one-file form .fodt) with lxml: the text a reader sees, and
the structure the file states. LibreOffice and OpenOffice save it by default, and Google Docs,
pandoc and Word write it too; agencies that run LibreOffice keep their policies so.

The file is a ZIP package of XML parts (content.xml, styles.xml, meta.xml). It is read with lxml,
the XML library python-docx already brings: odfpy, the one other Python reader, gives the same
element tree and none of what is needed on top of it (list numbers, heading levels, notes).

As the Word reader (formats/docx.py) reads Word's structure, this reads ODF's:
- text:h is a heading at its outline level; a paragraph in the "Title" style (or one based on
  it) is the title, one in a "Heading N" style a heading of level N.
- A document with no heading at all (headings typed by hand) has its headings read from how
  they look: a short paragraph wholly in bold (formats.looked_heading_level), its level its
  number's depth, else its depth by type size; a first one set larger than the rest is the title.
- List numbers are not in the text. They are rebuilt from the list style (number format,
  prefix and suffix, start value, levels shown), with ODF's rules for continuing a list
  (text:continue-list, text:continue-numbering) and restarting it (text:start-value), and written
  before the item, as the document shows them; the item is cited by them ("3 › b"). Bullets are
  shown as "•". A heading numbered by the outline ("chapter numbering") shows its number too.
- Tables are rows of cells (tab-separated, one line per row). A cell spanning columns stands
  once; a cell merged down from the row above is empty, so the row's other cells keep their
  columns. A table that lays a policy's text out under its labels (formats.label_table) is read
  as that text under those labels, as in Word files.
- Footnotes and endnotes follow the paragraph (or table row) that refers to them, each as a
  paragraph that starts with the mark the document shows; text boxes (frames) follow the
  paragraph they are anchored in. Nothing of them is lost.
- An embedded object (Insert > OLE Object, or cells pasted from Calc, which LibreOffice pastes
  as an embedded spreadsheet) is read where it stands when it holds text: a spreadsheet's shown
  sheet as table rows, a text document's paragraphs. Any other object (a chart, a formula, a
  drawing, a Microsoft OLE object) is named in a warning, since its text is not read.
- Generated indexes (table of contents, alphabetical index...), tracked deletions, comments,
  hidden text and the cached copies of list numbers are not the policy's words and are left out.
- meta.xml's title and date fill metadata the corpus does not give.
- Pages are where LibreOffice last laid the document out: it saves a text:soft-page-break
  where it began each page (within a paragraph or a table row where a page broke in one), and
  a page break the author set is in the paragraph's style. So a passage is cited by the page
  it stands on in the file's PDF. A file no LibreOffice laid out (pandoc's, or one converted
  without a view) has no such marks and no pages. Where page styles number pages otherwise
  (front matter i, ii, iii; the policies from 1 again), a page is cited by the number it shows.
"""

from __future__ import annotations

import io
import re
import zipfile
import zlib
from collections import Counter
from dataclasses import dataclass, field

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
    page_title,
    placeholder_title,
    row_breaks,
    size_depths,
)
from .sheets import sheet_lines

_NS = {
    "office": "urn:oasis:names:tc:opendocument:xmlns:office:1.0",
    "text": "urn:oasis:names:tc:opendocument:xmlns:text:1.0",
    "table": "urn:oasis:names:tc:opendocument:xmlns:table:1.0",
    "style": "urn:oasis:names:tc:opendocument:xmlns:style:1.0",
    "fo": "urn:oasis:names:tc:opendocument:xmlns:xsl-fo-compatible:1.0",
    "draw": "urn:oasis:names:tc:opendocument:xmlns:drawing:1.0",
    "meta": "urn:oasis:names:tc:opendocument:xmlns:meta:1.0",
    "dc": "http://purl.org/dc/elements/1.1/",
    "loext": "urn:org:documentfoundation:names:experimental:office:xmlns:loext:1.0",
    "config": "urn:oasis:names:tc:opendocument:xmlns:config:1.0",
}


def _q(name: str) -> str:
    """"text:p" as lxml spells it: "{urn:...:text:1.0}p"."""
    prefix, local = name.split(":")
    return f"{{{_NS[prefix]}}}{local}"


# Text, a text template, and Writer/Web's text (LibreOffice's save of a web page it opened)
_TEXT_MIMETYPES = ("application/vnd.oasis.opendocument.text",
                   "application/vnd.oasis.opendocument.text-template",
                   "application/vnd.oasis.opendocument.text-web")
# What another OpenDocument package is, by its mimetype, for a file named .odt that is not text.
_OTHER_KINDS = {"spreadsheet": "an OpenDocument spreadsheet",
                "presentation": "an OpenDocument presentation",
                "graphics": "an OpenDocument drawing", "text-master": "an OpenDocument master "
                "document (it only links other files; add those files instead)"}

# Drawn objects that may hold text (a frame's text box; a shape's own paragraphs): read after the
# paragraph they are anchored in, not as its text.
_SHAPES = {_q(n) for n in (
    "draw:frame", "draw:custom-shape", "draw:rect", "draw:ellipse", "draw:circle",
    "draw:polygon", "draw:polyline", "draw:path", "draw:regular-polygon", "draw:caption",
    "draw:line", "draw:connector", "draw:measure", "draw:g")}
# Elements whose content is not the policy's text where they stand: generated indexes (they
# repeat the headings), tracked changes (the deleted text), comments, form controls, the
# declarations of sequences and variables, and the cached copy of a list item's number.
_NOT_SHOWN = {_q(n) for n in (
    "text:tracked-changes", "text:table-of-content", "text:illustration-index",
    "text:table-index", "text:object-index", "text:user-index", "text:alphabetical-index",
    "text:bibliography", "office:annotation", "office:forms", "text:sequence-decls",
    "text:variable-decls", "text:user-field-decls", "text:dde-connection-decls",
    "text:number", "text:ruby-text", "text:soft-page-break", "text:note", "draw:a")} | _SHAPES
_P, _H = _q("text:p"), _q("text:h")
_PARAGRAPHS = {_P, _H}
_LIST, _ITEM, _HEADER = _q("text:list"), _q("text:list-item"), _q("text:list-header")
_TABLE, _ROW, _CELL = _q("table:table"), _q("table:table-row"), _q("table:table-cell")
_COVERED = _q("table:covered-table-cell")
_ROW_GROUPS = {_q(n) for n in ("table:table-header-rows", "table:table-rows",
                               "table:table-row-group")}
_WRAPPERS = {_q(n) for n in ("text:section", "text:index-body", "office:text",
                             "text:numbered-paragraph")}
_PARSER_OPTIONS = {"resolve_entities": False, "no_network": True, "load_dtd": False}
# A table row repeated this many times is a spreadsheet's filler, not text to repeat.
_MAX_REPEAT = 1000
_OBJECT, _OLE = _q("draw:object"), _q("draw:object-ole")
_SOFT_BREAK = _q("text:soft-page-break")
_HREF = "{http://www.w3.org/1999/xlink}href"
# What an embedded object is, by its body's element, for the objects that are not read
_OBJECT_KINDS = {"office:chart": "a chart", "office:drawing": "a drawing",
                 "office:presentation": "a presentation", "office:image": "an image"}
# Parts read where they stand (after their paragraph), not as their container's text.
_OWN_PARTS = {_q("text:note")} | _SHAPES
# What a text box or shape holds: paragraphs, tables (rows as rows) and shapes (a group's)
_BOX_PARTS = _PARAGRAPHS | {_q("table:table")} | _SHAPES


def read_odt(data: bytes) -> Extracted:
    """Read an OpenDocument text package (.odt) or flat file (.fodt): raises DocumentError."""
    from lxml import etree

    parser = etree.XMLParser(**_PARSER_OPTIONS)
    objects: dict[str, tuple] = {}
    try:
        if data.lstrip(b"\xef\xbb\xbf \t\r\n").startswith(b"<"):  # .fodt: one XML file holding every part
            content = styles = meta = etree.fromstring(data, parser)
        else:
            with zipfile.ZipFile(io.BytesIO(data)) as package:
                _check_package(package)
                content = etree.fromstring(package.read("content.xml"), parser)
                styles = _part(package, "styles.xml", parser)
                meta = _part(package, "meta.xml", parser)
                objects = _objects(package, content, parser)
    except (zipfile.BadZipFile, KeyError, zlib.error, EOFError, etree.XMLSyntaxError,
            ValueError) as exc:
        raise DocumentError(f"damaged OpenDocument file ({type(exc).__name__}: {exc})") from exc
    body = content.find(f"{_q('office:body')}/{_q('office:text')}")
    if body is None:
        raise DocumentError("not an OpenDocument text file (no office:text body)")
    reader = _Reader(_Styles([styles, content]), objects)
    reader.walk(body)
    raw, blocks, pages, labels = reader.assemble()
    properties = _properties(meta)
    heading = next((raw[b.start:b.end] for b in blocks if b.kind in ("title", "heading")), "")
    if "title" in properties:  # a web page LibreOffice saved: its <title> less the site's name
        properties["title"] = page_title(properties["title"], heading)
    return Extracted(raw=raw, format="odt", meta=properties, blocks=blocks, page_starts=pages,
                     pages=len(pages), page_labels=labels,
                     warnings=_unread_objects(reader.unread))


def _part(package: zipfile.ZipFile, name: str, parser):
    from lxml import etree

    return etree.fromstring(package.read(name), parser) if name in package.namelist() else None


def _objects(package: zipfile.ZipFile, content, parser) -> dict[str, tuple]:
    """The embedded objects the body refers to ("./Object 1"), by reference: (the object's
    content part, its settings part), each None where the package does not hold it. A damaged
    object part is left out here and named where the object stands."""
    from lxml import etree

    names = set(package.namelist())
    found = {}
    for obj in content.iter(_OBJECT):
        href = obj.get(_HREF, "")
        folder = href.removeprefix("./").rstrip("/")
        if not folder or folder in found:
            continue
        parts = []
        for name in ("content.xml", "settings.xml"):
            try:
                parts.append(etree.fromstring(package.read(f"{folder}/{name}"), parser)
                             if f"{folder}/{name}" in names else None)
            except (etree.XMLSyntaxError, zipfile.BadZipFile, zlib.error, EOFError, ValueError):
                parts.append(None)
        found[folder] = tuple(parts)
    return found


def _unread_objects(kinds: list[str]) -> list[str]:
    """The warning that names the embedded objects whose text is not read, if any."""
    if not kinds:
        return []
    return [f"its {len(kinds)} embedded object(s) ({counted(kinds)}) are not read: the document shows "
            "them as pictures; paste their text into the document, or save them into the corpus "
            "folder"]


def _check_package(package: zipfile.ZipFile) -> None:
    """Refuse, with the reason, a package that is no OpenDocument text or whose parts are
    encrypted (LibreOffice's "Save with password" encrypts content.xml and lists how in
    META-INF/manifest.xml)."""
    names = set(package.namelist())
    kind = package.read("mimetype").decode("ascii", "replace").strip() if (
        "mimetype" in names) else ""
    if kind and kind not in _TEXT_MIMETYPES:
        what = _OTHER_KINDS.get(kind.rsplit(".", 1)[-1].removeprefix("opendocument."))
        if kind.startswith("application/vnd.oasis.opendocument.") and what:
            raise DocumentError(f"{what}, not an OpenDocument text file")
        raise DocumentError(f"not an OpenDocument text file (its mimetype is {kind!r})")
    if "META-INF/manifest.xml" in names and b"encryption-data" in package.read(
            "META-INF/manifest.xml"):
        raise DocumentError("password-protected OpenDocument file (a password is needed to "
                            "open it)")
    if "content.xml" not in names:
        raise DocumentError("not an OpenDocument text file (no content.xml: a ZIP package of "
                            "something else?)")


def _properties(meta) -> dict:
    """The title and date meta.xml states (the date last saved, else created)."""
    if meta is None:
        return {}
    out = {}
    title = meta.find(f".//{_q('office:meta')}/{_q('dc:title')}")
    if title is not None and (title.text or "").strip() and not placeholder_title(title.text):
        out["title"] = " ".join(title.text.split())
    for tag in ("dc:date", "meta:creation-date"):
        when = meta.find(f".//{_q('office:meta')}/{_q(tag)}")
        if when is not None and re.match(r"\d{4}-\d\d-\d\d", (when.text or "").strip()):
            out["date"] = when.text.strip()[:10]
            break
    return out


@dataclass
class _Style:
    name: str  # its display name ("Heading 1"), else its name with ODF's escapes undone
    parent: str
    list_style: str = ""
    outline_level: int = 0
    bold: bool | None = None
    size: float | None = None
    caps: bool | None = None
    hidden: bool | None = None
    new_page: bool | None = None  # a paragraph or table set to begin a page (a hard break)
    master: str | None = None  # the page style it begins (style:master-page-name)
    page_number: int | None = None  # the number that page takes, where it restarts them


_HEADING_STYLE = re.compile(r"heading\s*([1-9]|10)$", re.I)


class _Styles:
    """Paragraph and text styles by name (the document's own, then the automatic ones of the
    content part, which win), and list styles by name, with what the reader needs of each."""

    def __init__(self, roots):
        self.styles: dict[str, _Style] = {}
        self.lists: dict[str, dict[int, _Level]] = {}  # list style -> level (1-based) -> format
        self.outline: dict[int, _Level] = {}  # the chapter numbering of headings
        # page style -> the format its pages are numbered in (formats.list_marker's names)
        self.page_formats: dict[str, str] = {}
        layouts: dict[str, str] = {}  # page layout -> its style:num-format
        for root in roots:
            for layout in root.iter(_q("style:page-layout")) if root is not None else ():
                props = layout.find(_q("style:page-layout-properties"))
                layouts[layout.get(_q("style:name"), "")] = (
                    props.get(_q("style:num-format"), "1") if props is not None else "1")
            for master in root.iter(_q("style:master-page")) if root is not None else ():
                self.page_formats[master.get(_q("style:name"), "")] = _PAGE_FORMATS.get(
                    layouts.get(master.get(_q("style:page-layout-name"), ""), "1"), "decimal")
        for root in roots:
            if root is None:
                continue
            for group in ("office:styles", "office:automatic-styles"):
                for node in root.iterfind(f"{_q(group)}"):
                    self._read(node)

    def _read(self, group) -> None:
        for node in group:
            if node.tag == _q("style:style"):
                name = node.get(_q("style:name"), "")
                props = node.find(_q("style:text-properties"))
                shown = node.get(_q("style:display-name")) or _display(name)
                level = node.get(_q("style:default-outline-level"), "")
                self.styles[name] = _Style(
                    name=shown, parent=node.get(_q("style:parent-style-name"), ""),
                    list_style=node.get(_q("style:list-style-name"), ""),
                    outline_level=_whole(level, 0, 10),
                    bold=_weight(props), size=_font_size(props), caps=_caps(props),
                    hidden=(props.get(_q("text:display")) == "none"
                            if props is not None and props.get(_q("text:display")) else None),
                    new_page=_new_page(node), master=node.get(_q("style:master-page-name")),
                    page_number=_restart(node))
            elif node.tag in (_q("text:list-style"), _q("text:outline-style")):
                levels = {}
                for level in node:
                    number = _level_format(level)
                    if number is not None:
                        levels[_whole(level.get(_q("text:level")), 1, 10)] = number
                if node.tag == _q("text:outline-style"):
                    self.outline = levels
                else:
                    self.lists[node.get(_q("style:name"), "")] = levels

    def chain(self, name: str):
        """The style and those it is based on, nearest first; once each (a loop ends it)."""
        seen = set()
        while name and name in self.styles and name not in seen:
            seen.add(name)
            yield self.styles[name]
            name = self.styles[name].parent

    def get(self, name: str, attr: str):
        """A property from the style or the first style it is based on that sets it."""
        return next((getattr(s, attr) for s in self.chain(name)
                     if getattr(s, attr) is not None), None)


# ODF's page number formats (style:num-format), as formats.list_marker names them
_PAGE_FORMATS = {"i": "lower-roman", "I": "upper-roman", "a": "lower-alpha", "A": "upper-alpha"}


def _restart(style) -> int | None:
    """The number a paragraph style's page restarts the page numbers at (style:page-number),
    None where they go on ("auto")."""
    props = style.find(_q("style:paragraph-properties"))
    number = props.get(_q("style:page-number"), "") if props is not None else ""
    return int(number) if number.isdigit() and int(number) > 0 else None


def _new_page(style) -> bool | None:
    """Whether a paragraph or table style begins a page: a page break before it (Insert >
    More Breaks > Manual Break, which LibreOffice saves as the paragraph's style, and a Word
    file's page break it opened), or a page style of its own. None where it says nothing."""
    if style.get(_q("style:master-page-name")):
        return True
    for props in (style.find(_q("style:paragraph-properties")),
                  style.find(_q("style:table-properties"))):
        if props is not None and props.get(_q("fo:break-before")):
            return props.get(_q("fo:break-before")) in ("page", "even-page", "odd-page")
    return None


def _display(name: str) -> str:
    """A style's name as shown, ODF's escapes undone: "Heading_20_1" is "Heading 1". A name
    may be used with no style of that name defined (pandoc's "Title"): its name is all there
    is."""
    return re.sub(r"_([0-9a-fA-F]{2})_", lambda m: chr(int(m.group(1), 16)), name)


def _weight(props) -> bool | None:
    if props is None or props.get(_q("fo:font-weight")) is None:
        return None
    weight = props.get(_q("fo:font-weight"))
    return weight == "bold" or (weight.isdigit() and int(weight) >= 600)


def _font_size(props) -> float | None:
    """A font size in points ("14pt"); None where unset or relative ("120%")."""
    value = props.get(_q("fo:font-size"), "") if props is not None else ""
    m = re.fullmatch(r"([\d.]+)(pt|in|cm|mm)", value.strip())
    if not m:
        return None
    return float(m.group(1)) * {"pt": 1, "in": 72, "cm": 72 / 2.54, "mm": 72 / 25.4}[m.group(2)]


def _caps(props) -> bool | None:
    if props is None or props.get(_q("fo:text-transform")) is None:
        return None
    return props.get(_q("fo:text-transform")) == "uppercase"


# ODF's number formats (style:num-format) as list_marker styles.
_FORMATS = {"1": "decimal", "a": "lower-alpha", "A": "upper-alpha", "i": "lower-roman",
            "I": "upper-roman", "01, 02, 03, ...": "decimal-zero"}


@dataclass(frozen=True)
class _Level:
    """How a list (or the outline) numbers one of its levels."""

    style: str  # a list_marker style, "bullet", or "" (no number shown)
    prefix: str = ""
    suffix: str = ""  # "1." shows "." after the number, "a)" shows ")"
    start: int = 1
    shown: int = 1  # how many levels the number shows: 2 shows "2.1"
    template: str = ""  # LibreOffice's own format, where it writes one: "%1%.%2%"


def _whole(value: str | None, default: int, most: int = 10**12) -> int:
    """A whole number the file states, `default` where it states none or no number, and at
    most `most` (ODF has 10 outline levels; a file stating 10**9 is not to be counted to)."""
    value = (value or "").strip()
    return min(int(value), most) if value.isdigit() else default


def _level_format(level) -> _Level | None:
    """A list or outline level's numbering; bullets and pictures show a bullet."""
    tag = level.tag
    if tag in (_q("text:list-level-style-bullet"), _q("text:list-level-style-image")):
        return _Level("bullet")
    if tag not in (_q("text:list-level-style-number"), _q("text:outline-level-style")):
        return None
    fmt = level.get(_q("style:num-format"), "")
    return _Level(_FORMATS.get(fmt, "decimal") if fmt else "",
                  level.get(_q("style:num-prefix"), ""), level.get(_q("style:num-suffix"), ""),
                  _whole(level.get(_q("text:start-value")), 1),
                  _whole(level.get(_q("text:display-levels")), 1, 10),
                  level.get(_q("loext:num-list-format"), ""))


class _Counters:
    """One list's counters, a level each (1-based): a level restarts when a shallower one
    advances, as ODF and Word number lists."""

    def __init__(self):
        self.values: dict[int, int] = {}

    def advance(self, level: int, start: int, restart: int | None) -> None:
        self.values = {lv: v for lv, v in self.values.items() if lv <= level}
        if restart is not None:
            self.values[level] = restart
        else:
            self.values[level] = self.values[level] + 1 if level in self.values else start


def _render(levels: dict[int, _Level], counters: _Counters, level: int) -> tuple[str, str]:
    """(number shown, marker to cite) of an item at `level` of a list with these levels:
    "b)" and "b"; legal numbering ("2.1", two levels shown) is cited by its whole number."""
    this = levels[level]
    if this.style == "bullet":
        return "\u2022", ""
    if not this.style:
        return "", ""

    def value(lv: int) -> str:
        each = levels.get(lv, _Level("decimal"))
        style = each.style if each.style not in ("", "bullet") else "decimal"
        return list_marker(counters.values.get(lv, each.start), style)

    if re.search(r"%\d+%", this.template):
        shown = re.sub(r"%(\d+)%", lambda m: value(int(m.group(1))), this.template)
        many = len(set(re.findall(r"%(\d+)%", this.template))) > 1
    else:
        first = max(1, level - this.shown + 1)
        shown = this.prefix + ".".join(value(lv) for lv in range(first, level + 1)) + this.suffix
        many = first < level
    shown = shown.strip()
    return shown, (shown.strip(".)") if many else value(level))


@dataclass
class _Para:
    """One unit of text in reading order, before the headings typed by hand are told."""

    text: str
    kind: str  # "title" | "heading" | "item" | "body" | "plain" (a paragraph not in a list)
    level: int = 0
    marker: str = ""
    bold: bool = False
    size: float = 0.0
    sep: str = "\n\n"
    breaks: list[int] = field(default_factory=list)  # where pages begin within its text


class _Reader:
    def __init__(self, styles: _Styles, objects: dict[str, tuple] | None = None):
        self.styles = styles
        self.objects = objects or {}  # a package's embedded objects (_objects)
        self.unread: list[str] = []  # what each embedded object not read is
        # Pages as LibreOffice last laid the document out: the paragraph indexes (into
        # self.paras) a page begins at, for breaks between paragraphs or in empty ones
        self.page_before: list[int] = []
        # (paragraph index, page style, number it restarts at) where a page style begins
        self.page_styles: list[tuple[int, str, int | None]] = []
        self.paras: list[_Para] = []
        self.lists: dict[str, _Counters] = {}  # a list's xml:id -> its counters
        self.last_list: dict[str, _Counters] = {}  # list style -> its latest list's counters
        self.outline = _Counters()

    # --- the body, block by block ---------------------------------------------------------

    def walk(self, parent) -> None:
        for child in parent:
            if child.tag in (_P, _H):
                self.paragraph(child)
            elif child.tag == _LIST:
                self.list_items(child, 1, child.get(_q("text:style-name"), ""), None)
            elif child.tag == _TABLE:
                self.table(child)
            elif child.tag == _SOFT_BREAK:
                self.page_before.append(len(self.paras))
            elif child.tag in _SHAPES:  # drawn on the page
                self.box(child)
            elif child.tag in _WRAPPERS and child.get(_q("text:display")) != "none":
                self.walk(child)  # a section hidden by its author is not shown

    def paragraph(self, p, item: tuple | None = None) -> None:
        """A text:p or text:h, with the text boxes and notes anchored in it after it. `item` is
        (number shown, marker, level) for a list item's first paragraph, (None, "", level) for
        its others (no number: a paragraph that goes on with the item), None outside lists."""
        style = p.get(_q("text:style-name"), "")
        breaks: list[int] = []
        whole, bold = self.text(p, style, breaks)
        text = whole.strip()
        lead = len(whole) - len(whole.lstrip())
        if self.styles.get(style, "new_page") and self.paras:
            breaks.insert(0, 0)
        if master := self.styles.get(style, "master"):
            self.page_styles.append((len(self.paras), master, self.styles.get(style,
                                                                               "page_number")))
        first = len(self.paras)
        if text and not self.styles.get(style, "hidden"):
            kind, level = self.heading(p, style)
            if kind and item is not None:  # a heading numbered by its list
                shown = item[0]
                self.paras.append(_Para(f"{shown} {text}" if shown and shown != "\u2022"
                                        else text, kind, level))
            elif kind:
                shown = self.outline_number(p, level) if kind == "heading" else ""
                self.paras.append(_Para(f"{shown} {text}" if shown else text, kind, level))
            elif item is not None and item[0] is not None:
                shown, marker, level = item
                self.paras.append(_Para(f"{shown} {text}" if shown else text, "item", level - 1,
                                        marker))
            else:
                self.paras.append(_Para(text, "plain" if item is None else "body",
                                        bold=bold, size=self.size(p, style)))
            para = self.paras[-1]  # a page that begins within it begins at that word
            prefix = len(para.text) - len(text)
            para.breaks = [min(b - lead, len(text)) + prefix if b > lead else 0 for b in breaks]
        else:
            self.page_before.extend([first] * len(breaks))
        self.frames(p)
        self.notes(p)

    def heading(self, p, style: str) -> tuple[str, int]:
        """("title", 0), ("heading", level) or ("", 0), from the element and its style."""
        names = [_display(style)] + [s.name for s in self.styles.chain(style)]
        if any(name.lower() == "title" for name in names):
            return "title", 0
        if p.tag == _H:
            level = _whole(p.get(_q("text:outline-level")), 0, 10)
            return "heading", level or self.styles.get(style, "outline_level") or 1
        for name in names:
            if m := _HEADING_STYLE.search(name):
                return "heading", int(m.group(1))
        return "", 0

    def outline_number(self, h, level: int) -> str:
        """The number the outline style ("chapter numbering") shows before a heading."""
        if h.tag != _H or h.get(_q("text:is-list-header")) == "true":
            return ""
        levels = self.styles.outline
        if level not in levels or levels[level].style in ("", "bullet"):
            return ""
        self.outline.advance(level, levels[level].start,
                             _whole(h.get(_q("text:start-value")), None))
        return _render(levels, self.outline, level)[0]

    def list_items(self, node, level: int, style: str, counters: _Counters | None) -> None:
        """A text:list at `level` (1-based), numbered by `style` (the nearest list's, else the
        paragraphs' own list style). A top-level list continues another where ODF says so."""
        style = node.get(_q("text:style-name")) or style
        if counters is None:
            cont = node.get(_q("text:continue-list"))
            if cont and cont in self.lists:
                counters = self.lists[cont]
            elif node.get(_q("text:continue-numbering")) == "true" and style in self.last_list:
                counters = self.last_list[style]
            else:
                counters = _Counters()
            self.last_list[style] = counters
        if xml_id := node.get("{http://www.w3.org/XML/1998/namespace}id"):
            self.lists[xml_id] = counters
        for item in node:
            if item.tag not in (_ITEM, _HEADER):
                continue
            first = True
            for child in item:
                if child.tag in (_P, _H):
                    shown = None if item.tag == _HEADER or not first else self.number(
                        item, child, level, style, counters)
                    self.paragraph(child, (shown[0], shown[1], level) if shown
                                   else (None, "", level))
                    first = False
                elif child.tag == _LIST:
                    self.list_items(child, level + 1, style, counters)
                elif child.tag == _TABLE:
                    self.table(child)
                elif child.tag == _SOFT_BREAK:
                    self.page_before.append(len(self.paras))

    def number(self, item, p, level: int, style: str, counters: _Counters) -> tuple[str, str]:
        """(shown, marker) of a list item's first paragraph, advancing its list's counters."""
        own = self.styles.get(p.get(_q("text:style-name"), ""), "list_style")
        levels = self.styles.lists.get(style) or self.styles.lists.get(own or "", {})
        if level not in levels:
            return "\u2022", ""
        counters.advance(level, levels[level].start, _whole(item.get(_q("text:start-value")), None))
        return _render(levels, counters, level)

    def table(self, table) -> None:
        """A table's rows, each a line of tab-separated cells (a row of empty cells left
        out), or a label layout's text under its labels (formats.label_table)."""
        rows = list(self.rows(table))
        cells = [list(self.cells(tr)) for tr in rows]
        if all(len(r) == 2 and None not in r for r in cells) and label_table(
                [(self.cell_text(a), self.cell_text(b)) for a, b in cells]):
            under = next((p.level for p in reversed(self.paras) if p.kind in ("title", "heading")),
                         0)
            for tr, (label, cell) in zip(rows, cells, strict=True):
                self.paras.append(_Para(self.cell_text(label), "heading", under + 1))
                for p in _descendants(cell, _PARAGRAPHS):
                    if line := " ".join(self.text(p, p.get(_q("text:style-name"), ""))[0].split()):
                        self.paras.append(_Para(line, "body", sep="\n"))
                self.frames(tr)
                self.notes(tr)
            return
        if self.styles.get(table.get(_q("table:style-name"), ""), "new_page") and self.paras:
            self.page_before.append(len(self.paras))
        first = True
        for tr, row in zip(rows, cells, strict=True):
            # a page that begins between rows or before a row's first word begins with the row;
            # one that begins within a row (a row split over two pages), after it: the row
            # is cited by the page it began on
            atop, within = row_breaks(tr, _SOFT_BREAK, _OWN_PARTS)
            self.page_before.extend([len(self.paras)] * (atop + _breaks_before(tr)))
            texts = ["" if c is None else self.cell_text(c) for c in row]
            times = _whole(tr.get(_q("table:number-rows-repeated")), 1, _MAX_REPEAT)
            if any(texts):
                for _ in range(times):
                    self.paras.append(_Para("\t".join(texts), "body",
                                            sep="\n\n" if first else "\n"))
                    first = False
            self.page_before.extend([len(self.paras)] * within)
            before = len(self.paras)
            self.frames(tr)
            self.notes(tr)
            first = first or len(self.paras) > before

    def rows(self, parent):
        """A table's rows, in header, body and row groups alike."""
        for child in parent:
            if child.tag == _ROW:
                yield child
            elif child.tag in _ROW_GROUPS:
                yield from self.rows(child)

    @staticmethod
    def cells(tr):
        """A row's cells as shown: a cell spanning columns once (the covered cells beside it
        are its own), a cell covered from the row above as None (empty). A cell repeated
        (number-columns-repeated) stands that many times, at most _MAX_REPEAT; a run of empty
        ones, a spreadsheet's filler, once."""
        spanned = 0
        for cell in tr:
            if cell.tag not in (_CELL, _COVERED):
                continue
            times = _whole(cell.get(_q("table:number-columns-repeated")), 1, _MAX_REPEAT)
            if cell.tag == _COVERED:
                for _ in range(times):
                    if spanned > 0:
                        spanned -= 1
                    else:
                        yield None
                continue
            spanned = _whole(cell.get(_q("table:number-columns-spanned")), 1) - 1
            for _ in range(times if "".join(cell.itertext()).strip() else 1):
                yield cell

    def cell_text(self, cell) -> str:
        """A cell's paragraphs, nested tables' included, on one line."""
        if cell is None:
            return ""
        texts = [self.text(p, p.get(_q("text:style-name"), ""))[0]
                 for p in _descendants(cell, _PARAGRAPHS)]
        return " ".join(" ".join(texts).split())

    def frames(self, element) -> None:
        """The text boxes and shapes with text anchored in a paragraph or row, after it (box)."""
        for shape in _descendants(element, _SHAPES):
            self.box(shape)

    def box(self, shape) -> None:
        """A text box's or a shape's text (callouts, "Call 911 first" panels): a frame's text
        boxes, or the paragraphs a shape holds (LibreOffice saves a Word text box as a shape),
        each paragraph a paragraph of its own, a table's rows as rows; the shapes of a group,
        a box inside a box and the notes of its paragraphs after the paragraph they are
        anchored in."""
        inner = (list(shape.iterchildren(_q("draw:text-box"))) if shape.tag == _q("draw:frame")
                 else [shape])
        if shape.tag == _q("draw:frame"):
            for obj in shape.iterchildren(_OBJECT, _OLE):
                self.embedded(obj)
        for container in inner:
            self.contents(container)

    def contents(self, container) -> None:
        """The paragraphs, tables and shapes inside a text box, a shape or an embedded text
        document, as box reads them."""
        for node in _descendants(container, _BOX_PARTS):
            if node.tag in _SHAPES:
                self.box(node)
            elif node.tag == _TABLE:
                for tr in self.rows(node):
                    line = "\t".join(self.cell_text(c) for c in self.cells(tr))
                    if line.strip():
                        self.paras.append(_Para(line, "body"))
            else:
                text, _b = self.text(node, node.get(_q("text:style-name"), ""))
                if text.strip():
                    self.paras.append(_Para(text.strip(), "body"))
                self.frames(node)
                self.notes(node)

    def embedded(self, obj) -> None:
        """An embedded object's text where it stands: a spreadsheet's shown sheet as rows (one
        line a row, cells tab-separated, as a table), a text document's paragraphs. A package
        keeps the object in a folder of its own ("Object 1/content.xml"), a flat file inside
        the element. Anything else is named (self.unread): left unread in silence, a rota or a
        fee table pasted from Calc was missing from the policy without a word."""
        if obj.tag == _OLE:  # a Microsoft OLE object LibreOffice keeps as it came
            self.unread.append("a Microsoft OLE object")
            return
        inline = next(iter(obj), None)  # a flat file's object: its document, or a formula
        content, settings = (inline, inline) if inline is not None else self.objects.get(
            obj.get(_HREF, "").removeprefix("./").rstrip("/"), (None, None))
        body = content.find(_q("office:body")) if content is not None else None
        kind = body[0] if body is not None and len(body) else None
        if kind is not None and kind.tag == _q("office:spreadsheet"):
            rows = []
            for tr in self.rows(_shown_sheet(kind, settings)):
                row = ["" if c is None else self.cell_text(c) for c in self.cells(tr)]
                if any(row) and tr.get(_q("table:visibility"), "visible") == "visible":
                    # like rows stand once in the file, with how many there are
                    rows += [row] * _whole(tr.get(_q("table:number-rows-repeated")), 1,
                                           _MAX_REPEAT)
            for n, line in enumerate(sheet_lines(rows)):
                self.paras.append(_Para(line, "body", sep="\n\n" if n == 0 else "\n"))
        elif kind is not None and kind.tag == _q("office:text"):
            self.contents(kind)
        elif kind is not None:
            local = kind.tag.rsplit("}", 1)[-1]
            self.unread.append(_OBJECT_KINDS.get(f"office:{local}", f"an object ({local})"))
        elif content is not None and content.tag.endswith("}math"):
            self.unread.append("a formula")
        else:
            self.unread.append("an object the file does not hold whole")

    def notes(self, element) -> None:
        """The footnotes and endnotes a paragraph or row refers to, each as a paragraph: the
        mark the document shows, a space, the note's text."""
        for note in _descendants(element, {_q("text:note")}):
            citation = note.find(_q("text:note-citation"))
            mark = " ".join("".join(citation.itertext()).split()) if citation is not None else ""
            body = note.find(_q("text:note-body"))
            texts = [self.text(p, p.get(_q("text:style-name"), ""))[0]
                     for p in (_descendants(body, _PARAGRAPHS) if body is not None else [])]
            text = " ".join(" ".join(texts).split())
            if text:
                self.paras.append(_Para(f"{mark} {text}" if mark else text, "body"))

    # --- text within a paragraph ----------------------------------------------------------

    def text(self, p, style: str, breaks: list[int] | None = None) -> tuple[str, bool]:
        """The text a paragraph shows, and whether all of it is bold. ODF collapses runs of
        white space in the XML to one space; text:s, text:tab and text:line-break are the
        spaces, tabs and line breaks the author typed. `breaks`, if given, gets the position
        of each page LibreOffice began within the paragraph (text:soft-page-break)."""
        out: list[str] = []
        bold_all = [True, False]  # every character bold so far; any character at all
        collapsible = [True]  # the text so far ends in a space a written one would join

        def put(s: str, bold: bool, literal: bool = False) -> None:
            if not literal:
                s = re.sub(r"[ \t\r\n]+", " ", s)
                if collapsible[0] and s.startswith(" "):
                    s = s[1:]
                if not s:
                    return
                collapsible[0] = s.endswith(" ")
            else:
                collapsible[0] = False
            out.append(s)
            if s.strip():
                bold_all[1] = True
                bold_all[0] = bold_all[0] and bold

        def walk(node, bold: bool, caps: bool) -> None:
            if node.text:
                put(node.text.upper() if caps else node.text, bold)
            for child in node:
                tag = child.tag
                if tag == _q("text:s"):
                    count = child.get(_q("text:c"), "1")
                    put(" " * _whole(count, 1, _MAX_REPEAT), bold, True)
                elif tag == _q("text:tab"):
                    put("\t", bold, True)
                elif tag == _q("text:line-break"):
                    put("\n", bold, True)
                elif tag == _SOFT_BREAK and breaks is not None:
                    breaks.append(sum(map(len, out)))
                elif tag in _NOT_SHOWN or (tag == _q("text:hidden-text")
                                           and child.get(_q("text:is-hidden")) != "false"):
                    pass
                else:
                    span = child.get(_q("text:style-name"), "") if tag == _q("text:span") else ""
                    hidden = span and self.styles.get(span, "hidden")
                    if not hidden:
                        b = self.styles.get(span, "bold") if span else None
                        c = self.styles.get(span, "caps") if span else None
                        walk(child, bold if b is None else b, caps if c is None else c)
                if child.tail:
                    put(child.tail.upper() if caps else child.tail, bold)

        walk(p, bool(self.styles.get(style, "bold")), bool(self.styles.get(style, "caps")))
        return "".join(out), bold_all[0] and bold_all[1]

    def size(self, p, style: str) -> float:
        """The largest type size of the paragraph's own style and its spans' (points)."""
        sizes = [self.styles.get(style, "size") or 0.0]
        for span in p.iter(_q("text:span")):
            sizes.append(self.styles.get(span.get(_q("text:style-name"), ""), "size") or 0.0)
        return max(sizes)

    # --- the text and its blocks ----------------------------------------------------------

    def assemble(self) -> tuple[str, list[Block], list[tuple[int, int]], list[str]]:
        """The raw text, its blocks, its page starts and the numbers printed on its pages,
        with headings typed by hand told where the document marks none (see _looked). A page
        starts where LibreOffice began one when it last laid the document out: it saves each
        break it made as a text:soft-page-break, and the breaks its author set are in the
        styles. A file no LibreOffice laid out (pandoc's, or one converted without a view) has
        no page starts. A page style's pages are numbered in its format (front matter in i, ii,
        iii), from the number a paragraph that begins it restarts them at."""
        _looked(self.paras)
        parts: list[str] = []
        blocks: list[Block] = []
        marks: list[int] = []
        offset = 0
        before = Counter(self.page_before)  # paragraph index -> pages that begin at it
        starts: list[int] = []  # each paragraph's raw offset
        for n, para in enumerate(self.paras):
            if parts:
                parts.append(para.sep)
                offset += len(para.sep)
            marks += [offset] * before.pop(n, 0)
            marks.extend(offset + at for at in para.breaks)
            starts.append(offset)
            parts.append(para.text)
            kind = "body" if para.kind == "plain" else para.kind
            blocks.append(Block(offset, offset + len(para.text), kind, para.level, para.marker))
            offset += len(para.text)
        marks += [offset] * sum(before.values())  # after the last text: pages of no text
        pages = [(0, 1)] + [(at, n) for n, at in enumerate(marks, start=2)] if marks else []
        numbering = [(0, self.styles.page_formats.get("Standard", "decimal"), None)]
        for n, master, restart in self.page_styles:
            at = starts[n] if n < len(starts) else offset
            numbering.append((at, self.styles.page_formats.get(master, "decimal"), restart))
        return "".join(parts), blocks, pages, page_labels(pages, numbering)


def _looked(paras: list[_Para]) -> None:
    """In a document that marks no heading (no text:h, no heading style: headings typed by
    hand, the usual agency policy), a short paragraph wholly in bold, not in a list, is a
    heading (formats.looked_heading_level); an unnumbered one's level is its depth by type
    size, and a first one set larger than the rest is the title. As in Word files."""
    kinds = {p.kind for p in paras}
    if "heading" in kinds:
        return
    looked = [p for p in paras if p.kind == "plain" and p.bold
              and looked_heading_level(p.text) is not None]
    if not looked:
        return
    rest = max((p.size for p in looked[1:]), default=None)
    first_plain = next((p for p in paras if p.kind == "plain"), None)
    titled = ("title" not in kinds and rest is not None and looked[0] is first_plain
              and looked[0].size > rest)
    if titled:
        looked[0].kind = "title"
    headings = looked[1 if titled else 0:]
    for p, depth in zip(headings, size_depths([p.size for p in headings]), strict=True):
        level = looked_heading_level(p.text) or 1
        p.kind, p.level = "heading", level if numbered_heading(p.text) else level + depth


def _shown_sheet(spreadsheet, settings):
    """The sheet an embedded spreadsheet shows: the one its settings name active (the sheet it
    was on when last edited), else its first. The others are not on the page."""
    sheets = list(spreadsheet.iter(_TABLE))
    active = None
    if settings is not None:
        for item in settings.iter(_q("config:config-item")):
            if item.get(_q("config:name")) == "ActiveTable":
                active = (item.text or "").strip()
                break
    return next((t for t in sheets if t.get(_q("table:name")) == active), sheets[0] if sheets
                else spreadsheet)


def _breaks_before(row) -> int:
    """The soft page breaks between a table row and the row before it."""
    count = 0
    for sibling in row.itersiblings(preceding=True):
        if sibling.tag != _SOFT_BREAK:
            break
        count += 1
    return count


def _descendants(element, tags):
    """The elements with these tags inside `element`, in order, not inside one of them nor
    inside a note or a shape of its own (those are read where they stand): a cell's or note's
    paragraphs (nested tables' and lists' included), a paragraph's notes and text boxes."""
    for child in element:
        if child.tag in tags:
            yield child
        elif child.tag not in _OWN_PARTS:
            yield from _descendants(child, tags)
