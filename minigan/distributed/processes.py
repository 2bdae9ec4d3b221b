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


# The variables an MPI launcher (MPICH's hydra, Open MPI, PMIx) gives each process it starts: their number.
LAUNCHED_SIZE_VARIABLES = ("PMI_SIZE", "OMPI_COMM_WORLD_SIZE", "PMIX_SIZE")




def launched_size() -> int:
    """How many processes the MPI launcher that started this one started (1 when none did)."""
    for name in LAUNCHED_SIZE_VARIABLES:
        if os.environ.get(name, "").isdigit():
            return int(os.environ[name])
    return 1


def end_unjoined_job(status: int, line: str | None = None) -> None:
    """After a failure of this process BEFORE it joined the group (a usage error, an option refused
    before MPI starts): where mpiexec started several processes, the others may already wait in MPI's
    start-up for this one, for ever. Join the group, print ``line`` (if not printed already; a rank
    other than 0 after ``GRACE_SECONDS``, so that an error every rank meets is said once), then end
    every rank (MPI_Abort) with ``status``. Returns, doing nothing, outside mpiexec or where MPI cannot
    be loaded (the others then fail to start too)."""
    from . import joined

    if launched_size() < 2 or joined().size > 1:  # (a joined rank ends the job with stop_every_rank)
        return
    from .mpi import MPIUnavailable, load_mpi

    try:
        MPI = load_mpi()
    except MPIUnavailable:
        return
    if line is not None:
        if MPI.COMM_WORLD.Get_rank():
            time.sleep(GRACE_SECONDS)
        print(line, file=sys.__stderr__)
    sys.__stderr__.flush()
    time.sleep(FORWARD_SECONDS)
    MPI.COMM_WORLD.Abort(status)
