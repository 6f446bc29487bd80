"""The errors a user sees from the index side (DocumentError, for one file, lives in documents.py)."""


class IndexError_(Exception):
    """The index is missing, stale or unreadable, or its model cannot load; the message says which
    and what to do."""
