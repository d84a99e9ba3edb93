"""Work done after the response, in one worker thread per process.

The password-reset form answers at once and the same way for every address:
looking the address up, rendering and sending the mail happen here, so neither
the response time nor Server-Timing tells a registered address from an
unknown one.

A job still queued when the process stops is lost (the user asks for another
mail). The queue is bounded, so a flood of requests cannot fill the memory:
beyond it a job is dropped, with a warning in the log.
"""

import logging
import queue
import threading

from django.db import connections

QUEUE_SIZE = 100

logger = logging.getLogger(__name__)

_jobs = queue.Queue(maxsize=QUEUE_SIZE)
_worker_lock = threading.Lock()
_worker = None


def submit(job):
    """Run `job()` soon in the worker thread. False if the queue was full and
    the job was dropped."""
    _ensure_worker()
    try:
        _jobs.put_nowait(job)
    except queue.Full:
        logger.warning("Background queue full (%d jobs): a job was dropped.", QUEUE_SIZE)
        return False
    return True


def wait_until_done():
    """Block until every job submitted so far has run."""
    _jobs.join()


def _ensure_worker():
    global _worker
    with _worker_lock:
        # Started on first use, in the process that serves (a fork does not
        # carry threads over).
        if _worker is None or not _worker.is_alive():
            _worker = threading.Thread(target=_run, name="accounts-background", daemon=True)
            _worker.start()


def _run():
    while True:
        job = _jobs.get()
        try:
            job()
        except Exception:
            logger.exception("Background job %r failed.", job)
        finally:
            # As at the end of a request: no connection kept open by a thread
            # that may sleep for hours.
            connections.close_all()
            _jobs.task_done()
