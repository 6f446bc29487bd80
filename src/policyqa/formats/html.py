"""Web pages (.html/.htm/.xhtml, and .mhtml web archives) with BeautifulSoup 4 on the lxml parser.

Why this parser: pages saved from an intranet are often invalid markup; lxml repairs it the way
browsers do and is fast, BeautifulSoup gives a plain tree walk and decodes the page's character
set and entities (`&amp;`, `&nbsp;`). Both are widely used and kept up. selectolax is faster but
offers less for walking mixed inline/block content; trafilatura removes boilerplate by heuristics
that can also drop the lists and tables a policy is made of, so the rules here are explicit:

- The page's declared main content (<main>, role="main", or a single <article>) when it has
  one, else <body>. script, style, nav, asides, form controls, hidden elements, ARIA
  navigation/banner regions, words for screen readers only, an editor's "Edit" link and the
  readers' comments under a post (by the classes content systems give them), a heading's
  links to itself ("#", "¶", "§"), a generated
  manual's "Next: ..., Previous: ..., Up: ..." links (rel="next"...), navigation panels by
  their generators' classes (DocBook's "navheader", "breadcrumbs"...) and blocks mostly of
  links whose id or class names them a menu ("topNav", "leftMenu") are dropped: they are the
  site, not the policy. A <header> or <footer> is the site's banner or footer
  only where HTML says so: outside <article>, <section> and <main>. Inside them it is the
  policy's own (its title, its "approved by" line) and stays. A document's running header and
  footer, as LibreOffice saves them (<div title="header">, <div title="footer">), are dropped.
  So are footnote marks in the text ("management.<sup>1</sup>", Word's "[1]"; a quote across
  them is found); a note keeps its own number, a space before its text. A <form> itself is not
  dropped: ASP.NET and SharePoint pages, the usual intranet, wrap their whole body in one.
- h1-h6 build the sections; a page with none (a CMS's or intranet's, its headings typed in
  bold) has its short wholly bold paragraphs as headings, nested by their numbers
  (formats.looked_heading_level, as for Word) or by the type sizes their inline styles state,
  and so is a bold line that a <br> sets over its
  paragraph's text; lists keep their nesting and an <ol>'s numbers
  (start, type) are shown and cited; a heading's number glued to its title ("4.1Receiving
  funds", as LibreOffice saves numbered headings) is set apart; table rows are lines of
  tab-separated cells, except in a table that holds headings (a page laid out in a table),
  whose cells with headings, paragraphs or lists are read as the page's own blocks.
- A document the page shows in a frame (an <iframe>, <object> or <embed> of a PDF or Word
  file: the browser's viewer, SharePoint's WopiFrame) is not in the page's text: the file's
  report names it, and a page that is nothing but the frame is named as such; so is an old
  intranet's page of frames (<frameset>), whose text is in the pages its frames show.
- A web archive (.mhtml/.mht: what a browser's "save as single file" writes) is a MIME message;
  its first HTML part is the page, read as above (the standard library's `email` decodes it).
- Text under an inline `text-transform: uppercase` (how word processors save All Caps) reads
  in capitals, as the browser shows it.
- <title>, else an opening paragraph that reads as a heading set wholly in bold or in a
  title's large type, 16 pt or more (a word processor's page sets its title so: Word's Title
  style is 26 pt, not bold), else the first h1, is the title (not a title a program filled in:
  "Untitled Document", "New Page 1", "Home"; and without the site's name where the <title> is
  the h1 and that name: "Client Funds Policy | Riverside Intranet"). The page's markup is
  never rendered; only its text reaches the canonical text.
"""

from __future__ import annotations

import itertools
import re
import sys
from urllib.parse import unquote

from . import (
    Block,
    DocumentError,
    Extracted,
    label_table,
    list_marker,
    looked_heading_level,
    numbered_heading,
    page_title,
    placeholder_title,
    size_depths,
    some_of,
)

_DROP = {"script", "style", "noscript", "template", "nav", "aside", "iframe", "svg", "button",
         "select", "input", "textarea", "object", "embed", "canvas", "map", "dialog", "menu"}
# Landmarks only at the page level (HTML-ARIA: banner / contentinfo): inside a sectioning
# element they belong to it.
_PAGE_LEVEL = {"header", "footer"}
_SECTIONING = ["article", "section", "main"]
_DROP_ROLES = {"navigation", "banner", "contentinfo", "search", "complementary", "menu",
               "menubar", "toolbar", "dialog"}
_BLOCK = {"p", "div", "section", "article", "main", "blockquote", "pre", "address", "figure",
          "figcaption", "caption", "dl", "dt", "dd", "ul", "ol", "li", "table", "h1", "h2", "h3",
          "h4", "h5", "h6", "hr", "details", "summary", "center", "fieldset", "body", "html"}
_SPACE = re.compile(r"\s+")
# The walk over a page's elements recurses once per level. An old FrontPage page that never
# closes its <font> tags nests every later paragraph one level deeper, past Python's default of
# 1,000 frames (a RecursionError skipped it); Python 3.11 calls between Python functions use no
# C stack, so a deeper limit is safe. Past it, the page is named as too deep.
_DEPTH = 50_000  # frames: two a level (walk, _walk), so 20,000 levels and more
sys.setrecursionlimit(max(sys.getrecursionlimit(), _DEPTH))
_LINE_BREAK = "\ue000"  # a <br> inside a list item or cell, until its text is gathered


def read_html(data: bytes | str) -> Extracted:
    import warnings

    from bs4 import BeautifulSoup, XMLParsedAsHTMLWarning

    try:
        with warnings.catch_warnings():
            # An XHTML page ("<?xml ...?>" first) is read as a browser reads it, as HTML: bs4's
            # advice to parse it as XML would only clutter the ingest's output.
            warnings.simplefilter("ignore", XMLParsedAsHTMLWarning)
            soup = BeautifulSoup(data, "lxml", from_encoding=_encoding(data))
    except Exception as exc:  # lxml repairs nearly anything; a failure here is a broken file
        raise DocumentError(f"unreadable web page ({type(exc).__name__}: {exc})") from exc
    _class_type(soup)
    title_tag = soup.find("title")
    title = _SPACE.sub(" ", title_tag.get_text()).strip() if title_tag else ""
    if placeholder_title(title):
        title = ""  # "Untitled Document", "Home": the page's own heading or text titles it
    frames = [unquote(str(f["src"])) for f in soup.find_all("frame", src=True)]
    if soup.find("frameset") is not None and frames:
        # an old intranet's page of frames (a contents frame beside a policy frame): its text is
        # in the pages the frames show; what else it holds is a "no frames" apology
        raise DocumentError(f"web page made of frames ({some_of(frames, 3)}): its text is in those pages, "
                            "read as files of their own where they are in the corpus folder")
    panels = _disclosed(soup)
    framed = _framed_documents(soup)
    scripted = soup.find("script") is not None
    pagers = any(_PAGER_RELS & {str(r).lower() for r in a.get("rel") or []}
                 for a in soup.find_all("a", rel=True))
    for tag in soup.find_all(True):
        # (bs4's own `tag.decomposed` looks for a child tag named "_decomposed" in the whole
        # subtree when the flag is unset: quadratic, minutes for a page nested 30,000 deep)
        if tag.__dict__.get("_decomposed"):
            continue
        if tag.name == "button" and _disclosure(tag):
            tag.unwrap()  # its words title the panel it opens
        elif (note := _note_mark(tag)) == "reference":
            tag.decompose()  # "management.1": a quote of "management. Staff" is found
        elif note == "note":
            tag.append(" ")  # "2The monthly reconciliation": the note's number, then its text
        elif (tag.name in _DROP or _hidden(tag, panels) or _page_landmark(tag)
              or _link_menu(tag) or _permalink(tag) or (pagers and _pager(tag))
              or _nav_class(tag)):
            tag.decompose()
        elif _UPPERCASE.search(str(tag.get("style", ""))):
            _capitals(tag)
    root = _main(soup)
    if root is None:
        raise DocumentError("web page with no body text")
    writer = _Writer()
    # no heading markup: bold lines are headings
    writer.looks = root.find(_HEADINGS) is None and root.find(_aria_level) is None
    writer.cells = int(root.find_parent(list(_CELLS)) is not None)
    try:
        writer.walk(root, 0)
    except RecursionError:
        raise DocumentError(f"web page nested too deeply to read (over {_DEPTH // 2:,} levels of "
                            "elements)") from None
    writer.flush()
    shown = some_of(framed, 3)
    if framed and not writer.text().strip():
        raise DocumentError(f"web page that only shows a document in a frame ({shown}), not "
                            "saved with it: save that document into the corpus folder")
    if scripted and not writer.text().strip():
        # An intranet page its scripts draw (SharePoint, a single-page app), saved as "HTML
        # only": the file holds the scripts, not the policy. policyqa runs no scripts.
        raise DocumentError("web page with no text of its own: its scripts build it in the "
                            "browser, and policyqa does not run them; open it in a browser and, "
                            "once it has loaded, save it as PDF or as 'Webpage, Complete'")
    writer.nest_looked_by_size()
    first = next((b for b in writer.blocks if b.kind == "heading" and b.level == 1), None)
    heading = writer.text()[first.start:first.end] if first else ""
    if not title:
        title = _lead_title(root)
    title = page_title(title, heading) if title else heading
    meta = {"title": title} if title else {}
    warnings = [f"it shows {len(framed)} document(s) in a frame, not saved with the page and "
                f"not read ({shown}): save them into the corpus folder"] if framed else []
    return Extracted(raw=writer.text(), format="html", meta=meta, blocks=writer.blocks,
                     warnings=warnings)


# A frame's or embedded object's source that is a document file (its path, or a viewer's query
# naming it: SharePoint's "WopiFrame.aspx?sourcedoc=/Policies/4.12.docx")
_DOCUMENT_SOURCE = re.compile(r"\.(?:pdf|docx?|odt|rtf|pptx?|xlsx?)(?:$|[?#&;/\s])", re.I)


def _framed_documents(soup) -> list[str]:
    """The document files a page shows in an <iframe>, <object> or <embed> (an intranet page
    that shows its policy's PDF in the browser's viewer): their text is not in the page, and
    saved "HTML only" the page holds none of it. Named, they are not lost without a word; a
    frame of anything else (a video, a map) is the page's furniture."""
    found = []
    for tag in soup.find_all(("iframe", "object", "embed")):
        source = str(tag.get("src") or tag.get("data") or "").strip()
        kind = str(tag.get("type") or "").lower()
        if source and (_DOCUMENT_SOURCE.search(source) or kind == "application/pdf"):
            path = re.split(r"[?#]", source)[0]
            if "sourcedoc=" in source.lower():  # a viewer: the document it names
                path = re.split(r"sourcedoc=", source, flags=re.I)[1].split("&")[0]
            name = unquote(path.rstrip("/").rsplit("/", 1)[-1]) or source
            if name not in found:
                found.append(name)
    return found


def _encoding(data: bytes | str) -> str | None:
    """The character set to read a page's bytes in where BeautifulSoup's own choice would be
    wrong, as a browser reads them (the WHATWG Encoding Standard): a page that declares
    ISO-8859-1 or ASCII is read as Windows-1252, whose curly quotes and dashes old intranet pages
    hold ("Staff\x92s" was read so); a page that declares none is UTF-8 where its bytes are
    (a short one was guessed Shift-JIS: "client窶冱"), else Windows-1252, as .txt files are.
    None: the page's own declaration or byte-order mark holds."""
    import codecs

    from bs4.dammit import EncodingDetector

    if isinstance(data, str) or data.startswith((b"\xef\xbb\xbf", b"\xff\xfe", b"\xfe\xff")):
        return None
    declared = EncodingDetector.find_declared_encoding(data, is_html=True)
    if declared:
        try:
            name = codecs.lookup(declared).name
        except LookupError:
            return None
        return "windows-1252" if name in ("iso8859-1", "ascii") else None
    try:
        data.decode("utf-8")
    except UnicodeDecodeError:
        return "windows-1252"
    return "utf-8"


# A heading's number glued to its title: LibreOffice saves a numbered heading as "4.1Receiving
# funds", "III.Procedure", dropping the tab it sets after the number.
_GLUED_NUMBER = re.compile(r"^((?:\d{1,2}\.)*\d{1,2}\.?|[IVXLC]{1,6}\.|[A-Za-z]\.)(?=[A-Z][a-z])")


def read_mhtml(data: bytes) -> Extracted:
    """The page inside a web archive: its first text/html part, decoded by its own charset."""
    import email
    import email.policy

    message = email.message_from_bytes(data, policy=email.policy.compat32)
    for part in message.walk():
        if part.get_content_type() == "text/html":
            payload = part.get_payload(decode=True) or b""
            charset = part.get_content_charset() or "utf-8"
            try:
                page = payload.decode(charset, errors="replace")
            except LookupError:  # a charset name Python does not know
                page = payload.decode("utf-8", errors="replace")
            return read_html(page)
    raise DocumentError("web archive with no HTML page in it (not a saved .mhtml page?)")


_WORD_LIST = re.compile(r"mso-list:\s*l\d+\s+level(\d)")
# The run of spaces Word sets after a list's bullet or number, in every web page it saves.
_WORD_SPACER = re.compile(r"font:\s*7\.0pt")
_MARGIN = re.compile(r"margin-left:\s*([\d.]+)\s*(in|pt|cm|mm|px)")
_INCHES = {"in": 1.0, "pt": 1 / 72, "cm": 1 / 2.54, "mm": 1 / 25.4, "px": 1 / 96}


def _word_bullet(p) -> int | None:
    """The list level (0-based) of a paragraph Word saved as a web page from a bulleted list,
    taking its bullet out of the text; None for any other block. Word writes each item as a
    <p>, its bullet first in a span of its own, in the bullet's symbol font: "·" (Symbol), "o"
    (Courier New), "§" (Wingdings), then a run of spaces set in 7pt. Left in, "o" and "§" read
    as words of the text ("o Not even bus fare"). The paragraph's style names its list and level
    ("mso-list:l1 level2 lfo2"); a "filtered" web page drops that, and the level is then its
    indent, Word's half inch a level. A numbered item's "1." or "a)" is kept: the section
    parser reads typed numbers."""
    from bs4 import NavigableString, Tag

    style = str(p.get("style", ""))
    listed = _WORD_LIST.search(style)
    # (the span stands between Word's "[if !supportLists]" and "[endif]" comments, if any)
    first = next((c for c in p.children if isinstance(c, Tag) or (
        type(c) is NavigableString and c.strip())), None)
    if not isinstance(first, Tag) or first.name != "span":
        return None
    if not listed and first.find("span", style=_WORD_SPACER) is None:
        return None
    mark = _SPACE.sub("", first.get_text().replace("\xa0", ""))
    if len(mark) != 1 or mark.isdigit():
        return None
    first.extract()
    if listed:
        return max(int(listed.group(1)) - 1, 0)
    indent = _MARGIN.search(style)
    inches = float(indent.group(1)) * _INCHES[indent.group(2)] if indent else 0.0
    return min(max(round(inches / 0.5) - 1, 0), 8)


def _box_title(summary) -> bool:
    """Whether a <summary> titles its <details> box as a heading does its section: an FAQ's
    boxes, one per question, the text after each in another box, a heading or nowhere. Not a
    box with other text after it ("History" over an API's changelog in Node's docs, the API's
    description following): a heading has no end, so that text would be cited under it."""
    from bs4 import CData, NavigableString

    box = summary.parent
    if box is None or box.name != "details" or summary.find_previous_sibling(True) is not None:
        return False
    last = box
    while getattr(last, "contents", None):  # the box's last node (a string has no contents)
        last = last.contents[-1]
    for after in last.next_elements:  # the first words after the box
        if type(after) in (NavigableString, CData) and after.strip():
            return after.find_parent(["details", *_HEADINGS]) is not None
    return True


def _disclosed(soup) -> set[str]:
    """The ids of the panels a disclosure control or a tab opens (aria-controls): an FAQ's
    accordion, as the WAI-ARIA pattern and Bootstrap write it, keeps each answer in a panel
    marked hidden until its question is pressed, and a page set in tabs ("Overview",
    "Procedure") all but the open tab's panel. Those are the page's text, not hidden matter."""
    return {ref for tag in soup.find_all(attrs={"aria-controls": True})
            if _disclosure(tag) or (str(tag.get("role", "")).lower() == "tab"
                                    and tag.get_text(strip=True))
            for ref in str(tag["aria-controls"]).split()}


def _disclosure(tag) -> bool:
    """A button that shows and hides a panel (aria-expanded or aria-controls), or one inside a
    heading: an accordion's question ("How do I report abuse?"), where other buttons ("Print",
    "Share") are the page's tools."""
    if tag.name != "button" or not tag.get_text(strip=True):
        return False
    return "aria-expanded" in tag.attrs or "aria-controls" in tag.attrs or \
        tag.find_parent(_HEADINGS) is not None


# Classes of what a content system adds to a page that is not the page's text: words for
# screen readers only, hidden on screen (WordPress' "screen-reader-text", Bootstrap's "sr-only",
# "visually-hidden", Drupal's "element-invisible"); an editor's "Edit" link (WordPress, saved by
# a logged-in editor); the readers' comments and the reply form under a post ("Leave a Reply",
# "Your email address will not be published.").
_NOT_THE_PAGES = {"screen-reader-text", "sr-only", "visually-hidden", "visuallyhidden",
                  "element-invisible", "post-edit-link", "edit-link", "comments-area",
                  "comment-respond", "comment-list", "commentlist"}


def _hidden(tag, panels: set[str] = frozenset()) -> bool:
    attrs = tag.attrs or {}
    if str(attrs.get("role", "")).lower() in _DROP_ROLES:
        return True
    if any(str(c).lower() in _NOT_THE_PAGES for c in attrs.get("class") or []):
        return True
    if attrs.get("id") in panels:
        return False  # shown when its question is pressed (_disclosed)
    if "hidden" in attrs or attrs.get("aria-hidden") == "true":
        return True
    style = str(attrs.get("style", "")).replace(" ", "").lower()
    return "display:none" in style or "visibility:hidden" in style


def _page_landmark(tag) -> bool:
    """The site's own header or footer: one not inside an article, section or main. Or a word
    processor's running header or footer: LibreOffice saves a document's as a <div
    title="header"> / <div title="footer"> at the top and foot of the body ("Page 3 of 3",
    "Revised 03/2024"), what a PDF of it repeats on every page and policyqa leaves out there."""
    if tag.name == "div" and (tag.get("title") or "").strip().lower() in ("header", "footer"):
        return tag.parent is not None and tag.parent.name == "body"
    if tag.name not in _PAGE_LEVEL:
        return False
    return tag.find_parent(_SECTIONING) is None and tag.find_parent(attrs={"role": "main"}) is None


def _link_menu(tag) -> bool:
    """A list of nothing but links inside a header or footer: the language picker or page tools
    a content header carries (Wikipedia's), not the policy's text."""
    if tag.name not in ("ul", "ol") or tag.find_parent(_PAGE_LEVEL) is None:
        return False
    items = tag.find_all("li")
    return bool(items) and all(
        _SPACE.sub("", li.get_text()) == _SPACE.sub("", "".join(a.get_text() for a in
                                                                  li.find_all("a")))
        for li in items)


_PAGER_RELS = {"next", "prev", "previous", "up", "parent", "first", "last", "index", "contents",
               "start"}
# Classes that generators give their navigation panels (DocBook's navheader/navfooter,
# LaTeX2HTML's online-navigation, texinfo's nav-panel) and sites their breadcrumbs.
_NAV_CLASSES = {"navheader", "navfooter", "nav-panel", "online-navigation", "breadcrumb",
                "breadcrumbs", "skip-link", "skiplink"}


# Words that name a block the site's menu, in an id or class ("topNav", "leftMenu",
# "side-bar", "footer-menu"), as pages laid out before <nav> (and intranet templates) name them.
_MENU_WORDS = {"nav", "navbar", "navigation", "menu", "menubar", "sidebar", "sidenav", "leftnav",
               "topnav", "quicklaunch", "breadcrumb", "breadcrumbs", "toc"}
_NAME_WORDS = re.compile(r"[-_\s]+|(?<=[a-z])(?=[A-Z])")


def _nav_class(tag) -> bool:
    """A navigation panel by its class, where a generator marks it so and no ARIA role does; or
    a block whose id or class names it a menu (`_MENU_WORDS`) and that is mostly links: a
    page laid out in <div>s or table cells keeps its menus there, and each page's copy stood
    as a passage of every page. So is a word processor's table of contents (Word's "MsoToc1"
    lines, LibreOffice's "Table of Contents1" block), as Word files leave theirs out. A
    "sidebar" of policy text (a callout) is not mostly links, and a policy's own list of
    related policies names no menu: both stay."""
    classes = [str(c) for c in tag.get("class") or []]
    if any(c.lower() in _NAV_CLASSES for c in classes):
        return True
    names = classes + [str(tag.get("id") or "")]
    words = {w.lower() for name in names for w in _NAME_WORDS.split(name) if w}
    words |= {re.sub(r"[-_\s]", "", name).lower() for name in names}
    contents = any(w.startswith(("toc", "tableofcontents")) for w in words)  # "MsoToc1",
    # Word's contents lines; "Table of Contents1", LibreOffice's contents block
    if not (words & _MENU_WORDS or contents) or tag.find(["h1", "main", "article"]) is not None:
        return False
    text = len(_SPACE.sub("", tag.get_text()))
    linked = sum(len(_SPACE.sub("", a.get_text())) for a in tag.find_all("a"))
    return text > 0 and linked >= 0.5 * text


def _pager(tag) -> bool:
    """A paragraph of page-to-page links ("Next: Using libffi, Previous: libffi, Up: libffi
    [Index]"), marked as such by their rel="next"/"prev"/"up" (the manuals texinfo, DocBook
    and Sphinx generate, a policy manual published as linked pages): the site's navigation,
    which would stand as a passage of every page. Words outside its links are its labels only."""
    if tag.name not in ("p", "div"):
        return False
    links = tag.find_all("a")
    rels = [{str(r).lower() for r in (a.get("rel") or [])} for a in links]
    if not links or not all(rel & _PAGER_RELS for rel in rels):
        return False
    outside = _SPACE.sub(" ", tag.get_text(" ")).split()
    inside = sum(len(a.get_text(" ").split()) for a in links)
    return len(outside) - inside <= 2 * len(links)


_HEADINGS = ["h1", "h2", "h3", "h4", "h5", "h6"]


def _aria_level(tag) -> int:
    """The level of an element marked as a heading for assistive technology (role="heading",
    aria-level 1-6, 2 where unset, as WAI-ARIA says), which some CMS pages use instead of
    h1-h6: a screen reader reads it as a heading, and so does policyqa. 0 for anything else."""
    if tag.name in _HEADINGS or (tag.get("role") or "").strip().lower() != "heading":
        return 0
    level = str(tag.get("aria-level") or "2").strip()
    return min(max(int(level), 1), 6) if level.isdigit() else 2


_PERMALINK_MARKS = {"", "#", "\u00b6", "\u00a7", "\U0001f517", "\u2693", "\u00a4"}  # # ¶ § 🔗 ⚓ ¤
_PERMALINK_CLASSES = {"headerlink", "anchor", "anchorjs-link", "permalink", "header-anchor",
                      "heading-anchor", "mark"}


def _permalink(tag) -> bool:
    """A heading's link to itself: the "#" of Node's and GitHub's docs, Sphinx's "¶", a CMS's
    "§" or chain icon. It is the site's tool, not the heading's words, and left in it would
    stand in every citation ("Loans # › Repayment #"). Only a same-page link whose whole text is
    such a mark, inside a heading or marked by its class as a heading anchor."""
    if tag.name != "a" or not str(tag.get("href", "")).startswith("#"):
        return False
    if _SPACE.sub("", tag.get_text()) not in _PERMALINK_MARKS:
        return False
    classes = set(tag.get("class") or [])
    return bool(classes & _PERMALINK_CLASSES) or tag.find_parent(_HEADINGS) is not None


# A note's mark: "1", "[2]", "iv", "*", "†"
_NOTE_MARK = re.compile(r"\[?(?:\d{1,3}|[ivx]{1,5}|[*\u2020\u2021]{1,3})\]?")


def _note_mark(tag) -> str:
    """How a same-page link that is a footnote's mark is read: "reference" where it follows the
    words it annotates (LibreOffice's and pandoc's <sup>1</sup>, Word's [1], Wikipedia's [2]),
    "note" where it opens the note itself; "" for any other tag. A mark set in superscript,
    or by its class (Word's MsoFootnoteReference, "footnote-ref", "sdfootnoteanc"), only."""
    if tag.name != "a" or not str(tag.get("href", "")).startswith("#"):
        return ""
    if not _NOTE_MARK.fullmatch(_SPACE.sub("", tag.get_text())):
        return ""
    near = itertools.islice(itertools.chain([tag], tag.find_all(True, limit=11), tag.parents), 12)
    if not any(t.name == "sup" or "note" in " ".join(t.get("class") or []).lower()
               for t in near):
        return ""
    block = tag.find_parent(_BLOCK - {"body", "html"})
    if block is None:
        return "reference"
    for text in block.find_all(string=True):
        if text.find_parent("a") is tag:
            return "note"  # nothing of the block's before the mark
        if text.strip():
            return "reference"
    return "note"


def _bold(tag) -> bool:
    """<strong>, <b>, or an element styled bold."""
    if tag.name in ("strong", "b"):
        return True
    style = str(tag.get("style", "")).replace(" ", "").lower()
    return re.search(r"font-weight:(bold|[6-9]00)", style) is not None


def _outer_bold(node, test=_bold) -> list:
    """The bold elements (or those `test` picks) inside `node` that no other such element inside
    it contains."""
    out = []
    for tag in node.find_all(test):
        parent = tag.parent
        while parent is not None and parent is not node and not test(parent):
            parent = parent.parent
        if parent is node:
            out.append(tag)
    return out


def _wholly(node, test) -> bool:
    """Whether all of `node`'s text is set so (bold, a title's type): itself, or the outermost
    elements inside it that are, hold every letter of it."""
    text = _SPACE.sub("", node.get_text())
    return test(node) or _SPACE.sub("", "".join(
        t.get_text() for t in _outer_bold(node, test))) == text


def _main(soup):
    for candidate in (soup.find("main"), soup.find(attrs={"role": "main"})):
        if candidate is not None:
            return candidate
    articles = soup.find_all("article")
    if len(articles) == 1:
        return articles[0]
    return soup.body or soup


# <ol type="..."> values, as list_marker styles.
_OL_STYLES = {"a": "lower-alpha", "A": "upper-alpha", "i": "lower-roman", "I": "upper-roman"}


_FONT_SIZE = re.compile(r"font-size:\s*([\d.]+)\s*(pt|px)", re.I)


def _type_size(node) -> float | None:
    """The largest type size (points) its inline styles give a heading ("font-size:14.0pt",
    as Word writes, or "18px"), None where they give none."""
    sizes = [_points(m) for tag in [node, *node.find_all(True)]
             for m in _FONT_SIZE.finditer(str(tag.get("style", "")))]
    return max(sizes, default=None)


def _points(size: re.Match) -> float:
    """A _FONT_SIZE match in points (a CSS pixel is three quarters of a point)."""
    return float(size.group(1)) * (0.75 if size.group(2).lower() == "px" else 1.0)


_CELLS = {"li", "td", "th"}


def _lead_title(root) -> str:
    """The page's opening paragraph where it is set wholly in bold or in a title's large type
    and reads as a heading, before any h1-h6: how a word processor's page shows its title
    ("Incident Reporting and Review", large and bold, over "I. Purpose"; Word's Title style,
    26 pt, over "1. Purpose"). "" where the page opens otherwise."""
    from bs4 import Tag

    for node in root.descendants:
        if not isinstance(node, Tag):
            continue
        if node.name in _HEADINGS:
            return ""
        if node.name not in ("p", "div") or _holds_block(node):
            continue
        text = _SPACE.sub(" ", node.get_text(" ")).strip()
        if not text:
            continue
        shown = (_wholly(node, _bold) or _wholly(node, _title_type)
                 or "MsoTitle" in (node.get("class") or ()))
        return text if shown and looked_heading_level(text) is not None else ""
    return ""


def _title_type(tag) -> bool:
    """Set in a title's type size, 16 pt or more, by an inline style: LibreOffice writes Word's
    Title style (26 pt, not bold) so; Word itself writes class="MsoTitle"."""
    size = _FONT_SIZE.search(str(tag.get("style", "")))
    return size is not None and _points(size) >= 16


# A style sheet's rule ("selectors { declarations }") and the declarations of type it may give.
_CSS_RULE = re.compile(r"([^{}]+)\{([^{}]*)\}")
_TYPE_DECLARATION = re.compile(r"(font-weight|font-size)\s*:\s*([^;}]+)", re.I)
_CLASS_SELECTOR = re.compile(r"\s*([a-z][a-z0-9]*)?\.([\w-]+)\s*", re.I)


def _class_type(soup) -> None:
    """The weight and size of type a page's style sheet gives a class, written into the style
    of each element of that class, so the rules that read type from a style (bold lines as a
    page's headings, a title's large type) read it too. Google Docs' "Download > Web page" sets
    every paragraph's type so (".c3{font-weight:700}", ".title{font-size:26pt}"), never inline:
    a policy typed with bold headings was one section. Only a plain class selector (".c3",
    "p.MsoTitle") counts, only weight and size, and never over the element's own style: a class
    that hides its element (a collapsed panel's "display: none") hides nothing here."""
    rules: dict[tuple[str, str], dict[str, str]] = {}  # (tag or "", class) -> property -> value
    for sheet in soup.find_all("style"):
        for selectors, body in _CSS_RULE.findall(sheet.get_text()):
            given = {prop.lower(): value.strip() for prop, value in _TYPE_DECLARATION.findall(body)}
            if not given:
                continue
            for selector in selectors.split(","):
                if m := _CLASS_SELECTOR.fullmatch(selector):
                    rules.setdefault(((m.group(1) or "").lower(), m.group(2)), {}).update(given)
    if not rules:
        return
    for tag in soup.find_all(class_=True):
        own = str(tag.get("style", ""))
        given: dict[str, str] = {}
        for name in tag.get("class") or []:
            for key in (("", name), (tag.name, name)):
                given.update(rules.get(key, {}))
        extra = [f"{prop}:{value}" for prop, value in given.items()
                 if not re.search(rf"{prop}\s*:", own, re.I)]
        if extra:
            tag["style"] = "; ".join([*extra, own] if own else extra)


# An inline style that shows its text in capitals, as a word processor saves All Caps.
_UPPERCASE = re.compile(r"text-transform\s*:\s*uppercase", re.I)


def _capitals(tag) -> None:
    """Its text in capitals, as the browser shows it: Word's and LibreOffice's All Caps heading
    ("purpose" under text-transform: uppercase) reads "PURPOSE", as its Word file and PDF do."""
    from bs4 import NavigableString

    for text in list(tag.find_all(string=True)):
        if type(text) is NavigableString:  # not comments, CDATA, doctype
            text.replace_with(text.upper())


def _holds_block(node) -> bool:
    """Any block element under `node`: a search that stops at the first (bs4's find() first
    walks to the subtree's last element, which in a page nested thousands deep is quadratic)."""
    stack = list(node.contents)
    while stack:
        child = stack.pop()
        if child.name in _BLOCK:
            return True
        stack.extend(getattr(child, "contents", ()))
    return False


def _ol_marker(value: int, kind: str) -> str:
    return list_marker(value, _OL_STYLES.get(kind, "decimal"))


class _Writer:
    """Builds the canonical text block by block; inline text gathers until a block ends it."""

    def __init__(self):
        self.parts: list[str] = []
        self.length = 0
        self.blocks: list[Block] = []
        self.inline: list[str] = []
        self.pending: tuple[str, int, str] | None = None  # (kind, level, marker) of the open item
        self.looks = False  # take wholly bold paragraphs as headings (a page with no h1-h6)
        # How many list items and table cells the walk is inside (walk keeps it): asking each
        # element for its ancestors costs a page nested thousands deep quadratic time.
        self.cells = 0
        self.looked: list[tuple[Block, float | None]] = []  # those headings, their type size
        self.joined = False  # the next block follows a <br>: one line break, not a blank line
        self.level = 0  # the level of the last heading (h1-h6, role=heading, a bold line)

    def text(self) -> str:
        return "".join(self.parts)

    def add(self, text: str, kind: str, level: int = 0, marker: str = "", sep: str = "\n\n"):
        text = text.strip()
        if not text:
            return
        if self.parts:
            sep = "\n" if self.joined else sep
            self.parts.append(sep)
            self.length += len(sep)
        self.joined = False
        self.parts.append(text)
        self.blocks.append(Block(self.length, self.length + len(text), kind, level, marker))
        self.length += len(text)

    def flush(self) -> None:
        text = _SPACE.sub(" ", "".join(self.inline)).strip()
        text = re.sub(f" ?{_LINE_BREAK} ?", "\n", text).strip()
        self.inline = []
        if not text:
            return  # an open list item waits for its text (a <p> inside the <li>)
        kind, level, marker = self.pending or ("body", 0, "")
        self.pending = None
        if kind == "item":
            shown = f"{marker}." if marker else "\u2022"
            text = f"{shown} {text}"
        self.add(text, kind, level, marker)

    def walk(self, node, list_level: int) -> None:
        inside = node.name in _CELLS
        self.cells += inside
        try:
            self._walk(node, list_level)
        finally:
            self.cells -= inside

    def _walk(self, node, list_level: int, children=None) -> None:
        from bs4 import CData, NavigableString, Tag

        for child in node.children if children is None else children:
            if type(child) in (NavigableString, CData):  # not comments, doctype, PIs
                self.inline.append(str(child))
                continue
            if not isinstance(child, Tag):
                continue
            name = child.name
            if name == "br":
                self._line_break(child)
            elif level := (int(name[1]) if name in _HEADINGS else _aria_level(child)):
                self.flush()
                self.add(_GLUED_NUMBER.sub(r"\1 ", _SPACE.sub(" ", child.get_text(" ")).strip(),
                                           count=1), "heading", level)
                self.level = level
            elif name == "summary" and _box_title(child):
                self.flush()
                self.add(_SPACE.sub(" ", child.get_text(" ")), "heading", min(self.level + 1, 9))
            elif name in ("ul", "ol"):
                self.flush()
                self._list(child, list_level)
            elif name == "table":
                self.flush()
                self._table(child, list_level)
            elif name == "pre":
                self.flush()
                self.add(child.get_text(), "body")
            elif name in _BLOCK and (bullet := _word_bullet(child)) is not None:
                # Word's "Save as Web Page" list paragraph, its bullet a symbol-font glyph
                self.flush()
                self.pending = ("item", bullet, "")
                self.walk(child, list_level)
                self.flush()
                self.pending = None
            elif name in _BLOCK:
                self.flush()
                level = self._looked_heading(child)
                if level:
                    self.add(_SPACE.sub(" ", child.get_text(" ")), "heading", level)
                    self.level = level
                    self.looked.append((self.blocks[-1], _type_size(child)))
                    continue
                lead = self._lead_heading(child)
                if lead:
                    level, bold, br = lead
                    self.add(_SPACE.sub(" ", bold.get_text(" ")), "heading", level)
                    self.level = level
                    self.looked.append((self.blocks[-1], _type_size(bold)))
                    bold.extract()
                    br.extract()
                self.walk(child, list_level)
                self.flush()
            else:
                self.walk(child, list_level)  # inline: its text joins the open paragraph

    def _line_break(self, br) -> None:
        """A <br> is a line the reader sees. In a paragraph it ends a block, the next line
        following on the next line of the text, so that "1. Staff never lend money.<br>2. Gifts
        are declined." is two lines (and two items) as on screen, not one; a second <br> in a
        row leaves a blank line. In a list item or a table cell the lines stay one block."""
        if self.pending or self.cells:
            self.inline.append(_LINE_BREAK)
            return
        had_text = bool("".join(self.inline).strip())
        self.flush()
        after = br.next_sibling
        while after is not None and isinstance(after, str) and not after.strip():
            after = after.next_sibling
        self.joined = had_text and after is not None  # a trailing <br> joins nothing

    def nest_looked_by_size(self) -> None:
        """Bold headings typed in two sizes (a page Word saved from a policy with no heading
        styles: "font-size:14.0pt" over "12.0pt") nest by size (size_depths), the smaller
        under the larger, as in Word files; one whose size is not stated ranks below them. A
        numbered one keeps the level its number states."""
        text = self.text()
        depths = size_depths([size or 0.0 for _, size in self.looked])
        for (block, _), depth in zip(self.looked, depths, strict=True):
            if not numbered_heading(text[block.start:block.end]):
                block.level += depth

    def _may_hold_heading(self, node) -> bool:
        """A paragraph that a looked heading may stand in: on a page with no h1-h6, a <p> or
        <div> of inline content, not inside a list item or a table cell."""
        return (self.looks and not self.pending and node.name in ("p", "div")
                and not self.cells and not _holds_block(node))

    def _looked_heading(self, node) -> int | None:
        """A paragraph (not a list item's, not a cell's) wholly in bold, read as a heading where
        the page has no h1-h6: CMS and intranet pages often make headings that way."""
        if not self._may_hold_heading(node):
            return None
        text = _SPACE.sub(" ", node.get_text(" ")).strip()
        level = looked_heading_level(text)
        if level is None:
            return None
        if _bold(node):
            return level
        bold = "".join(b.get_text() for b in _outer_bold(node))
        return level if _SPACE.sub("", bold) == _SPACE.sub("", text) else None

    def _lead_heading(self, node):
        """(level, bold element, <br>) where a paragraph opens with a bold line of its own and
        its text follows the line break: "<p><b>Loans</b><br>Staff never lend...</p>", how
        older CMS pages set a heading over its text. Read as a heading where the page has no
        h1-h6, as a wholly bold paragraph is; a bold lead-in on the text's own line ("<b>Note:
        </b> ask") stays part of it."""
        if not self._may_hold_heading(node):
            return None
        from bs4 import NavigableString, Tag

        shown = [c for c in node.children
                 if not (isinstance(c, NavigableString) and not c.strip())]
        if len(shown) < 3 or not isinstance(shown[0], Tag) or shown[1].name != "br" or not (
                _bold(shown[0])):
            return None
        level = looked_heading_level(_SPACE.sub(" ", shown[0].get_text(" ")))
        return (level, shown[0], shown[1]) if level else None

    def _list(self, node, list_level: int) -> None:
        ordered = node.name == "ol"
        kind = node.get("type", "1") if ordered else ""
        start = node.get("start", "1")
        value = int(start) if str(start).lstrip("-").isdigit() else 1
        for child in node.children:
            if child.name in ("ul", "ol"):
                # a list straight inside a list, with no item around it: how LibreOffice saves
                # a list that starts at a deeper level (<ol><ol><li>); its items were lost
                self.flush()
                self._list(child, list_level + 1)
                continue
            if child.name != "li":
                self._walk(node, list_level, [child])  # stray text or blocks: read, not lost
                continue
            li = child
            if li.get("value", "").isdigit():
                value = int(li["value"])
            marker = _ol_marker(value, kind) if ordered else ""
            self.flush()
            self.pending = ("item", list_level, marker)
            self.walk(li, list_level + 1)
            self.flush()
            self.pending = None  # an empty <li> leaves nothing open
            value += 1

    def _table(self, node, list_level: int) -> None:
        """A data table's rows are lines of tab-separated cells. A table that holds headings
        is the page's layout (older intranet pages and generated manuals set their whole
        content in one): a row whose cells hold headings, paragraphs or lists is read cell by
        cell as the page's blocks, so its headings make sections instead of vanishing into
        a row's text; its other rows stay lines of cells. A table that lays a policy's text
        out under its labels (formats.label_table: "PURPOSE" beside the purpose) is read as
        that text under those labels, each a heading one level below the heading above it."""
        layout = node.find(_HEADINGS) is not None or node.find(_aria_level) is not None
        rows = [[c for c in row.find_all(["td", "th"]) if c.find_parent("tr") is row]
                for row in node.find_all("tr") if row.find_parent("table") is node]
        texts = [[_SPACE.sub(" ", c.get_text(" ")).strip() for c in found] for found in rows]
        if not layout and all(len(row) == 2 for row in texts) and label_table(
                [(label, text) for label, text in texts]):
            under = next((b.level for b in reversed(self.blocks) if b.kind == "heading"), 0)
            for (label, _text), (_, cell) in zip(texts, rows, strict=True):
                self.add(label, "heading", under + 1)  # "PURPOSE" over the purpose's text
                self.walk(cell, list_level)
                self.flush()
            return
        first = True
        for found, cells in zip(rows, texts, strict=True):
            if layout and any(c.find(list(_BLOCK)) is not None for c in found):
                for cell in found:
                    self.walk(cell, list_level)
                    self.flush()
                first = True
                continue
            if any(cells):
                self.add("\t".join(cells), "body", sep="\n\n" if first else "\n")
                first = False
