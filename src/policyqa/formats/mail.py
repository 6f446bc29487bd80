"""E-mail messages (.eml): a policy memo a director sent to staff, saved from the mail program
(Thunderbird's, Apple Mail's and Outlook on the web's "Save as" / "Download" write .eml).

What a mail program shows of it is what is read: its header lines (From, To, Cc, Date,
Subject), then its body, the HTML part where it has one (read as a web page, formats/html.py,
so its headings, lists and tables read as a page's do), else its plain text. The Subject is the
document's title and the Date its date. Attached files are not read, and the report names them
(save them into the corpus folder to index them). Python's own `email` package parses the
message (MIME parts, encoded headers, charsets); nothing else is needed.
"""

from __future__ import annotations

import email
import email.policy
import email.utils
import html

from . import DocumentError, Extracted, some_of

# The header lines a mail program shows above a message, in its order
SHOWN = ("From", "To", "Cc", "Date", "Subject")


def read_eml(data: bytes) -> Extracted:
    """The message as its reader sees it; DocumentError for a file that holds no e-mail."""
    message = email.message_from_bytes(data, policy=email.policy.default)
    if not any(message.get(name) for name in ("From", "Subject", "Date", "Message-ID")):
        raise DocumentError("not an e-mail message (no From, Subject or Date header)")
    header = [(name, _header(message, name)) for name in SHOWN]
    header = [(name, value) for name, value in header if value]
    body = message.get_body(preferencelist=("html", "plain"))
    text = _text(body) if body is not None else ""
    if body is not None and body.get_content_type() == "text/html":
        from .html import read_html

        lines = "<br>".join(f"{html.escape(name)}: {html.escape(value)}" for name, value in header)
        extracted = read_html(f"<p>{lines}</p>{text}")
    else:
        lines = "".join(f"{name}: {value}\n" for name, value in header)
        extracted = Extracted(raw=f"{lines}\n{text}", format="txt")
    extracted.meta = {key: value for key, value in (("title", _header(message, "Subject")),
                                                    ("date", _date(message))) if value}
    names = [part.get_filename() or (f"a forwarded message ({part.get_content_type()})")
             for part in message.walk()
             if part is not body and part.get_content_disposition() == "attachment"]
    if names:
        extracted.warnings.append(f"its {len(names)} attached file(s) are not read "
                                  f"({some_of(names, 5)}): save them into the corpus folder to "
                                  "index them")
    return extracted


def _header(message, name: str) -> str:
    """A header's value as shown: encoded words decoded, folded lines one line."""
    try:
        value = message.get(name)
    except (ValueError, IndexError):  # a malformed header the parser cannot decode
        value = ""
    return " ".join(str(value or "").split())


def _date(message) -> str:
    """The Date header as an ISO date ("2026-03-12"), "" where it reads as no date."""
    try:
        return email.utils.parsedate_to_datetime(str(message.get("Date", ""))).date().isoformat()
    except (TypeError, ValueError, IndexError):
        return ""


def _text(part) -> str:
    """A text part's words, decoded by its charset (UTF-8 where the charset is unknown)."""
    try:
        return part.get_content()
    except (LookupError, UnicodeError):
        payload = part.get_payload(decode=True) or b""
        return payload.decode("utf-8", errors="replace")
