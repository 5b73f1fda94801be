"""Process tuning for the offline run: the garbage collector, and leaving the CLI without teardown.

Why: the preview's heap is mostly the Pulumi SDKs' modules and classes (tens of thousands of long-lived
objects). With CPython's default thresholds the cyclic collector walks that heap again and again while
the program allocates Outputs and asyncio tasks, which was a third of the Azure program's time. Freezing
the heap moves what exists into a generation the collector skips; raising the thresholds while the
program runs makes the collections rare; a process that runs one preview and exits runs no collector.
None of it changes what the program registers, only when garbage cycles are reclaimed (peak memory is
reported by `make bench`).
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
# How this process runs previews: "library" (anything importing the engine), "many-previews" (a test
# process, `tune_for_many_previews`) or "one-preview" (`python -m mlops_tools preview`, `tune_for_cli`).
_regime = "library"


@contextmanager
def collector_tuned() -> Iterator[None]:
    """Freeze the heap and raise the collector's thresholds for the block; both restored after it.

    Restoring matters for library callers (tests preview many programs in one process): the frozen
    objects go back to the collector, so garbage from one preview is still reclaimed in the next.
    A process that previews many programs (`tune_for_many_previews`) keeps the heap frozen and the
    thresholds raised: unfrozen, the whole SDK heap went back to the oldest generation and the next
    full collection walked it (0.2-0.4 s of an AWS preview's CPU; issue 18). A one-preview CLI process
    has no collector running at all (`tune_for_cli`): nothing to do.
    """
    if _regime == "one-preview":
        yield
        return
    thresholds = gc.get_threshold()
    # Collect once first: garbage cycles frozen with the heap would stay until the end (measured: the
    # dev stack's peak grew from 195 to 219 MiB without this collection, and is 196 MiB with it).
    gc.collect()
    gc.freeze()
    gc.set_threshold(*PROGRAM_GC_THRESHOLDS)
    try:
        yield
    finally:
        if _regime == "library":
            gc.set_threshold(*thresholds)
            gc.unfreeze()


def tune_for_many_previews() -> None:
    """For a process that previews many programs (a test worker): freeze what the imports built and keep
    the thresholds raised until exit, so each preview's garbage is still reclaimed."""
    global _regime
    _regime = "many-previews"
    gc.freeze()
    gc.set_threshold(*PROGRAM_GC_THRESHOLDS)


def tune_for_cli() -> None:
    """For a CLI process that runs one preview and exits without teardown: no cyclic collection at all.

    Even at raised thresholds the young collections cost 0.14 s of the dev preview's CPU and 0.17 s of
    prod's (12-13 collections walking ~100k objects each), and found next to nothing: these programs
    make almost no cyclic garbage. Measured with the collector off (issue 18): peak memory 216 vs 215 MiB
    (dev), 229-234 vs 226-232 MiB (prod), and 473 vs 470 MiB (AWS) and 706 vs 714 MiB (Azure) for the
    5,000-resource synthetic programs; `make bench` reports the peak of every run. Pack processes forked
    from this one inherit it; they too end after the preview.
    """
    global _regime
    _regime = "one-preview"
    gc.disable()


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
