"""One BLAS thread for a question's small numpy products."""

from __future__ import annotations

import functools

_CONTROLLER = None


def one_blas_thread(func):
    """Run a query's small numpy products on one BLAS thread.

    Multi-threaded OpenBLAS spins its threads after each product and then fights the model's
    threads for the 2 cores on the next question encoding: measured, that tripled a question's
    time. threadpoolctl is imported at the first question, not at start-up.
    """

    @functools.wraps(func)
    def wrapper(*args, **kwargs):
        global _CONTROLLER
        if _CONTROLLER is None:
            from threadpoolctl import ThreadpoolController

            _CONTROLLER = ThreadpoolController()
        with _CONTROLLER.limit(limits=1, user_api="blas"):
            return func(*args, **kwargs)

    return wrapper
