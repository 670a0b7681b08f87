"""leaderwatch.gcpauses: start-up objects frozen out of full collections, and full collections counted."""
import collections
import gc

from leaderwatch.gcpauses import FullCollections, freeze_startup_objects


def test_frozen_objects_are_left_out_of_every_later_collection_and_still_live():
    held = [[i] for i in range(1000)]  # long-lived containers, as a worker's gazetteer
    assert all(gc.is_tracked(each) for each in held) and id(held[0]) in {id(each) for each in gc.get_objects()}
    try:
        frozen = freeze_startup_objects()
        assert frozen >= 1000 and gc.get_freeze_count() == frozen
        tracked = {id(each) for each in gc.get_objects()}  # generations 0-2 only: what a collection walks
        assert not any(id(each) in tracked for each in held)
        later = [["made after the freeze"]]
        assert id(later) in {id(each) for each in gc.get_objects()}
        assert held[999] == [999]
    finally:
        gc.unfreeze()
    assert id(held[0]) in {id(each) for each in gc.get_objects()}


def test_full_collections_are_counted_with_their_pauses_and_younger_ones_are_not():
    counters = collections.Counter()
    watcher = FullCollections(counters).install()
    try:
        gc.collect(0)
        gc.collect(1)
        assert counters["gc_full_collections"] == 0
        gc.collect()
        gc.collect(2)
        assert counters["gc_full_collections"] == 2
        assert counters["gc_full_pause_ms"] >= counters["gc_full_pause_ms_max"] > 0
        FullCollections(counters).install()  # another watcher: a second entry, each counts
        assert watcher.install() is watcher and gc.callbacks.count(watcher) == 1
    finally:
        for callback in [c for c in gc.callbacks if isinstance(c, FullCollections)]:
            gc.callbacks.remove(callback)
