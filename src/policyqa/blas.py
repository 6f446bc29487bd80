"""Threads on the query path: one BLAS thread for a question's small numpy products, and a count
of the questions running now, for the model's threads (embedding/onnx_runtime.py)."""

from __future__ import annotations

import functools
import threading

_CONTROLLER = None
_RUNNING = 0  # questions inside a decorated call now, in this process (under _LOCK)
_LOCK = threading.Lock()
_LOCAL = threading.local()  # .inside: this thread is already in a decorated call


def one_blas_thread(func):
    """Run a query's small numpy products on one BLAS thread, and count the question as running.

    Multi-threaded OpenBLAS spins its threads after each product and then fights the model's
    threads for the 2 cores on the next question encoding: measured, that tripled a question's
    time. threadpoolctl is imported at the first question, not at start-up. A call inside another
    decorated call (ask -> prepare, search) is the same question: it is neither limited again
    nor counted again.
    """

    @functools.wraps(func)
    def wrapper(*args, **kwargs):
        global _CONTROLLER, _RUNNING
        if getattr(_LOCAL, "inside", False):
            return func(*args, **kwargs)
        if _CONTROLLER is None:
            from threadpoolctl import ThreadpoolController

            _CONTROLLER = ThreadpoolController()
        with _LOCK:
            _RUNNING += 1
        _LOCAL.inside = True
        try:
            with _CONTROLLER.limit(limits=1, user_api="blas"):
                return func(*args, **kwargs)
        finally:
            _LOCAL.inside = False
            with _LOCK:
                _RUNNING -= 1

    return wrapper


def questions_running() -> int:
    """How many questions this process is answering now (the caller's own included)."""
    with _LOCK:
        return _RUNNING
