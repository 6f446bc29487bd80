"""Word 97-2003 documents (.doc, and templates, .dot: the same format): converted to a .docx by
msdoc2docx, then read as one.

Agencies keep policies written before 2007 as .doc files. msdoc2docx converts them in pure
Python from Microsoft's published MS-DOC specification, keeping what the Word reader reads
(heading styles, list numbering, tables, footnotes, text boxes), so a .doc is sectioned, chunked
and cited exactly as the same document saved as .docx: LibreOffice's .doc of 16 of 18 Word files
read identically (the others: numbering LibreOffice itself lost in the .doc, a text box's shape
the converter refuses). An embedded object it shows as U+FFFC, which the "doc" cleaning rule
drops. The .docx is written to a temporary folder and removed once read.
"""

from __future__ import annotations

import dataclasses
import tempfile
from pathlib import Path

from . import DocumentError, Extracted

# The OLE compound file's signature: every Word 97-2003 document starts with it.
OLE = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"


def read_doc(path: Path, data: bytes) -> Extracted:
    from doc2docx import convert
    from doc2docx.errors import Doc2DocxError, EncryptedDocumentError

    from .docx import read_docx

    _check_kind(path, data)
    with tempfile.TemporaryDirectory(prefix="policyqa-doc-") as folder:
        converted = Path(folder) / "converted.docx"
        try:
            convert(path, converted)
        except EncryptedDocumentError as exc:
            raise DocumentError("password-protected Word 97-2003 file (a password is needed to "
                                "open it)") from exc
        except (Doc2DocxError, ValueError, KeyError, IndexError, OverflowError) as exc:
            raise DocumentError(f"unreadable Word 97-2003 file ({type(exc).__name__}: "
                                f"{_short(exc)}); open it in Word and save it as .docx") from exc
        extracted = read_docx(converted, converted.read_bytes())
    return dataclasses.replace(extracted, format="doc")


def _check_kind(path: Path, data: bytes) -> None:
    """A .doc that is no Word 97-2003 document is named for what it is: an encrypted Word
    package, an Excel or PowerPoint 97-2003 file, a damaged file."""
    from .docx import ole_streams

    if not data.startswith(OLE):
        head = data[:4096]
        if head.lstrip(b"\xef\xbb\xbf \t\r\n").startswith(b"<") and (
                b"w:wordDocument" in head or b"pkg:package" in head):
            # Word's "XML Document" saves (Word 2003 XML, Flat OPC), which mail merges and
            # document systems name .doc: a reason that says what to do, not "no OLE header"
            raise DocumentError("a Word XML document (Word 2003 XML or Flat OPC) named .doc, "
                                "not read: open it in Word and save it as .docx")
        raise DocumentError("not a Word 97-2003 document (no OLE compound file header)")
    try:
        streams = ole_streams(path)
    except Exception as exc:  # noqa: BLE001 - olefile's errors for a damaged compound file
        raise DocumentError(f"damaged Word 97-2003 file ({_short(exc)})") from exc
    if "EncryptedPackage" in streams:
        raise DocumentError("password-protected Word file (a password is needed to open it)")
    if "WordDocument" not in streams:
        kind = ("an Excel 97-2003 workbook" if streams & {"Workbook", "Book"}
                else "a PowerPoint 97-2003 presentation" if "PowerPoint Document" in streams
                else "an Office file of another kind")
        raise DocumentError(f"not a Word document: {kind} named {path.suffix or '.doc'}")


def _short(exc: Exception) -> str:
    text = " ".join(str(exc).split())
    return text if len(text) <= 120 else text[:117] + "..."
