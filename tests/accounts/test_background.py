import threading

from accounts import background


def test_jobs_run_in_another_thread_in_order():
    ran = []
    for n in range(3):
        assert background.submit(lambda n=n: ran.append((n, threading.current_thread().name)))
    background.wait_until_done()
    assert ran == [(0, "accounts-background"), (1, "accounts-background"),
                   (2, "accounts-background")]


def test_a_failing_job_is_logged_and_the_next_still_runs(caplog):
    ran = []

    def broken():
        raise RuntimeError("smtp down")

    background.submit(broken)
    background.submit(lambda: ran.append("next"))
    background.wait_until_done()
    assert ran == ["next"]
    assert [r.exc_info[1].args for r in caplog.records if r.name == "accounts.background"] == [
        ("smtp down",)]


def test_a_full_queue_drops_the_job_with_a_warning(caplog):
    release = threading.Event()
    started = threading.Event()

    def blocker():
        started.set()
        release.wait()

    background.submit(blocker)
    assert started.wait(10)
    try:
        accepted = [background.submit(lambda: None) for _ in range(background.QUEUE_SIZE + 1)]
    finally:
        release.set()
    background.wait_until_done()
    assert accepted == [True] * background.QUEUE_SIZE + [False]
    assert "a job was dropped" in caplog.text
