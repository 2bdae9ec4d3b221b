"""One run, P processes: rank 0 speaks for the run, and no rank is left waiting for a dead one.

A rank waiting in an exchange waits for ever for a rank that has ended: MPI cannot tell a slow
rank from a dead one. So a rank whose command fails ends every rank (MPI_Abort) after saying
why, within seconds. An error that every rank meets (a bad option, a missing file) would be
said P times: rank 0 says it at once and aborts; another rank waits ``GRACE_SECONDS`` first, so
when rank 0 failed too its abort ends the wait, and only a rank that failed alone speaks.
"""
from __future__ import annotations

import contextlib
import os
import sys
import time
import traceback

GRACE_SECONDS = 3.0
FORWARD_SECONDS = 1.0  # after the line is written: mpiexec forwards a rank's stderr through a proxy, and
                       # MPI_Abort kills the proxies, so a line still in transit was lost now and then


def silence_other_ranks(comm) -> None:
    """From now on, ranks other than 0 print nothing: their stdout and stderr go to /dev/null
    (``stop_every_rank`` still speaks, on the real stderr). Rank 0 speaks for the run."""
    if comm.rank:
        sys.stdout = sys.stderr = open(os.devnull, "w")


def stop_every_rank(comm, report) -> None:
    """After an error on this rank: say so, then end every rank of ``comm`` (it does not return).

    report(who) prints the error's one line for the command named ``who`` and returns the exit
    status; a rank other than 0 calls it after ``GRACE_SECONDS`` (see the module), naming itself.
    """
    if comm.rank:
        time.sleep(GRACE_SECONDS)
    with contextlib.redirect_stderr(sys.__stderr__):
        try:
            status = report("train" if comm.rank == 0 else f"train (rank {comm.rank} of {comm.size})")
        except BaseException:  # noqa: BLE001 (an error of no known kind, a bug: its traceback, then stop)
            traceback.print_exc()
            status = 1
        sys.stderr.flush()
    time.sleep(FORWARD_SECONDS)
    comm.abort(status)
