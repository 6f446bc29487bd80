"""policyqa.blas: one BLAS thread on the query path, and the count of questions running."""

from __future__ import annotations

import threading

from threadpoolctl import threadpool_info

from policyqa.blas import one_blas_thread, questions_running


def test_a_question_counts_once_however_deep_and_runs_on_one_blas_thread():
    seen = []

    @one_blas_thread
    def inner():
        seen.append(("inner", questions_running(),
                     {i["num_threads"] for i in threadpool_info() if i["user_api"] == "blas"}))

    @one_blas_thread
    def outer():
        seen.append(("outer", questions_running(), None))
        inner()

    assert questions_running() == 0
    outer()
    assert seen == [("outer", 1, None), ("inner", 1, {1})]
    assert questions_running() == 0


def test_questions_in_other_threads_are_counted_and_released_on_error():
    started, release = threading.Event(), threading.Event()

    @one_blas_thread
    def waiting():
        started.set()
        release.wait(30)

    @one_blas_thread
    def failing():
        raise ValueError("bad question")

    other = threading.Thread(target=waiting)
    other.start()
    try:
        assert started.wait(30)
        assert one_blas_thread(questions_running)() == 2
    finally:
        release.set()
        other.join()
    try:
        failing()
    except ValueError:
        pass
    assert questions_running() == 0
