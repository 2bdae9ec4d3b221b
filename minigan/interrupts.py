"""Ctrl-C (SIGINT) and SIGTERM during training: finish the step, save, then stop.

Inside ``deferred_signals()`` the two signals only set a flag; the trainer looks at it after each
step (``pending()``), saves a checkpoint and raises ``Interrupted``, which the command line turns
into exit status 128 + the signal's number (130 for SIGINT, 143 for SIGTERM) and one line saying
how to continue. A second Ctrl-C while the step finishes stops at once (a KeyboardInterrupt): every
file is written atomically, so the previous checkpoint stays intact.
"""
from __future__ import annotations

import contextlib
import signal
import threading


class Interrupted(BaseException):
    """Training stopped by a signal after a checkpoint was saved. A BaseException, as KeyboardInterrupt
    is, so that code catching Exception (a check that records failures, say) lets it through."""

    def __init__(self, signum: int, message: str):
        super().__init__(message)
        self.signum = signum

    @property
    def exit_status(self) -> int:
        return 128 + self.signum


_pending: list = []


def pending() -> int | None:
    """The number of the signal received inside ``deferred_signals``, or None."""
    return _pending[0] if _pending else None


@contextlib.contextmanager
def deferred_signals():
    """Within the block, SIGINT and SIGTERM are remembered instead of stopping the process."""
    def remember(signum, frame):
        if _pending and signum == signal.SIGINT:  # asked twice: stop now
            raise KeyboardInterrupt
        _pending.append(signum)

    _pending.clear()
    if not in_main_thread():  # only the main thread may set signal handlers
        yield
        return
    previous = {s: signal.signal(s, remember) for s in (signal.SIGINT, signal.SIGTERM)}
    try:
        yield
    finally:
        for s, handler in previous.items():
            signal.signal(s, handler)
        _pending.clear()


def in_main_thread() -> bool:
    return threading.current_thread() is threading.main_thread()


def signal_name(signum: int) -> str:
    return signal.Signals(signum).name
