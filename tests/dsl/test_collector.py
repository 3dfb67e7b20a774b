"""The cyclic collector paused around a parse, and what the parse made moved to its oldest
generation after."""

from __future__ import annotations

import gc
import weakref

from engine.dsl.collector import collector_paused


class _Node:
    def __init__(self) -> None:
        self.me = self


def test_paused_inside_and_as_it_was_after() -> None:
    assert gc.isenabled()
    with collector_paused():
        assert not gc.isenabled()
    assert gc.isenabled()
    gc.disable()
    try:
        with collector_paused():
            pass
        assert not gc.isenabled()
    finally:
        gc.enable()


def test_what_the_body_made_goes_to_the_oldest_generation_and_its_garbage_is_still_freed() -> None:
    with collector_paused():
        kept = [_Node() for _ in range(1000)]
        garbage = _Node()
        gone = weakref.ref(garbage)
        del garbage
    assert gc.get_count()[0] < 100 and gc.get_freeze_count() == 0
    assert gone() is not None  # a cycle: only the collector frees it
    gc.collect()
    assert gone() is None and len(kept) == 1000


def test_objects_the_process_froze_stay_frozen() -> None:
    gc.freeze()
    try:
        frozen = gc.get_freeze_count()
        with collector_paused():
            made = [_Node() for _ in range(100)]
        # neither unfrozen (0) nor the body's objects frozen too (more); frozen objects that die
        # meanwhile (another test's leftovers) make the count smaller
        assert 0 < gc.get_freeze_count() <= frozen and made
    finally:
        gc.unfreeze()
