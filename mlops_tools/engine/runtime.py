"""Process tuning for the offline run: the garbage collector, and leaving the CLI without teardown.

Why: the preview's heap is mostly the Pulumi SDKs' modules and classes (tens of thousands of long-lived
objects). With CPython's default thresholds the cyclic collector walks that heap again and again while
the program allocates Outputs and asyncio tasks, which was a third of the Azure program's time. Freezing
the heap moves what exists into a generation the collector skips; raising the thresholds while the
program runs makes the collections rare. Neither changes what the program registers, only when garbage
cycles are reclaimed (peak memory is reported by `make bench`).
"""

from __future__ import annotations

import gc
import os
import sys
from contextlib import contextmanager
from typing import Iterator

# Young-generation allocations between collections, then how many young/middle collections trigger the
# next older one. CPython's defaults are (700, 10, 10); a preview allocates millions of objects.
PROGRAM_GC_THRESHOLDS = (100_000, 50, 100)
# Set by tune_for_cli: the process ends after this preview, so the heap stays frozen after the program.
_cli_process = False


@contextmanager
def collector_tuned() -> Iterator[None]:
    """Freeze the heap and raise the collector's thresholds for the block; both restored after it.

    Restoring matters for library callers (tests preview many programs in one process): the frozen
    objects go back to the collector, so garbage from one preview is still reclaimed in the next.
    A CLI process (`tune_for_cli`) keeps the heap frozen and the thresholds raised: unfrozen, the
    whole SDK heap went back to the oldest generation and the next full collection walked it
    during the policy and cost stages (0.2-0.4 s of an AWS preview's CPU; issue 18).
    """
    thresholds = gc.get_threshold()
    # Collect once first: garbage cycles frozen with the heap would stay until the end (measured: the
    # dev stack's peak grew from 195 to 219 MiB without this collection, and is 196 MiB with it).
    gc.collect()
    gc.freeze()
    gc.set_threshold(*PROGRAM_GC_THRESHOLDS)
    try:
        yield
    finally:
        if not _cli_process:
            gc.set_threshold(*thresholds)
            gc.unfreeze()


def tune_for_cli() -> None:
    """For a short-lived CLI process: freeze what the imports built and keep the thresholds raised until exit."""
    global _cli_process
    _cli_process = True
    gc.freeze()
    gc.set_threshold(*PROGRAM_GC_THRESHOLDS)


def exit_now(code: int) -> None:
    """End a CLI process without interpreter teardown, once stdout and stderr are flushed.

    Tearing down the interpreter frees every SDK object one by one (0.7-1.3 s per preview) and
    achieves nothing for a process that is about to end: files are closed by then (the plan and
    reports are written with `write_text`), and the policy packs were stopped by the runner. Only
    `python -m mlops_tools` calls this; library calls and tests return normally.
    """
    for stream in (sys.stdout, sys.stderr):
        try:
            stream.flush()
        except (OSError, ValueError):  # a closed pipe: nothing more can be written anyway
            pass
    os._exit(code)
