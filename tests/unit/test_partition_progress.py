"""PartitionProgress: the offset committed never passes a record that has not finished."""

from __future__ import annotations

from hypothesis import settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, precondition, rule

from mailer.offsets import PartitionProgress


def test_out_of_order_finishes_commit_only_the_finished_prefix() -> None:
    progress = PartitionProgress()
    for offset in (10, 11, 12):
        progress.start(offset, timestamp_ms=offset * 1000)
    progress.finish(12)
    assert progress.pending_commit() is None
    assert progress.oldest_unfinished_timestamp_ms() == 10_000
    progress.finish(10)
    assert progress.pending_commit() == 11
    progress.committed = 11
    assert progress.pending_commit() is None
    progress.finish(11)
    assert progress.pending_commit() == 13
    assert progress.inflight == 0
    assert progress.oldest_unfinished_timestamp_ms() is None


def test_gaps_in_offsets_are_skipped_over() -> None:
    progress = PartitionProgress()
    progress.start(3, 0)
    progress.start(9, 0)  # offsets 4-8 were transaction markers or compacted away
    progress.finish(3)
    progress.finish(9)
    assert progress.pending_commit() == 10


def test_finishing_an_offset_twice_or_one_never_started_changes_nothing() -> None:
    progress = PartitionProgress()
    progress.start(5, 0)
    progress.start(6, 0)
    progress.finish(6)
    progress.finish(6)
    progress.finish(4)  # started before a revocation, finishing after the reassignment
    assert progress.inflight == 1
    assert progress.pending_commit() is None
    progress.finish(5)
    assert progress.pending_commit() == 7
    assert progress.inflight == 0
    assert not progress.finished


class ProgressModel(RuleBasedStateMachine):
    """Random starts (with offset gaps), finishes in any order, repeats and commits."""

    def __init__(self) -> None:
        super().__init__()
        self.progress = PartitionProgress()
        self.next_offset = 0
        self.started: list[int] = []
        self.timestamps: dict[int, int] = {}
        self.done: set[int] = set()
        self.committed: int | None = None
        self.last_committable: int | None = None

    @rule(gap=st.integers(0, 3), timestamp=st.integers(0, 10**12))
    def start(self, gap: int, timestamp: int) -> None:
        offset = self.next_offset + gap
        self.next_offset = offset + 1
        self.progress.start(offset, timestamp)
        self.started.append(offset)
        self.timestamps[offset] = timestamp

    @precondition(lambda self: len(self.done) < len(self.started))
    @rule(data=st.data())
    def finish(self, data: st.DataObject) -> None:
        unfinished = [offset for offset in self.started if offset not in self.done]
        offset = data.draw(st.sampled_from(unfinished))
        self.progress.finish(offset)
        self.done.add(offset)

    @rule(offset=st.integers(-5, 200))
    def finish_any(self, offset: int) -> None:
        """A repeat, or an offset this progress never handed out: both ignored."""
        if offset in self.started and offset not in self.done:
            return
        self.progress.finish(offset)

    @rule()
    def commit(self) -> None:
        pending = self.progress.pending_commit()
        if pending is not None:
            self.progress.committed = pending
            self.committed = pending

    def _model_committable(self) -> int | None:
        committable = None
        for offset in self.started:
            if offset not in self.done:
                break
            committable = offset + 1
        return committable

    @invariant()
    def committable_is_one_past_the_finished_prefix(self) -> None:
        assert self.progress.committable == self._model_committable()

    @invariant()
    def committable_never_passes_an_unfinished_record(self) -> None:
        unfinished = [offset for offset in self.started if offset not in self.done]
        committable = self.progress.committable
        if unfinished and committable is not None:
            assert committable <= min(unfinished)

    @invariant()
    def committable_never_moves_back(self) -> None:
        committable = self.progress.committable
        if self.last_committable is not None:
            assert committable is not None
            assert committable >= self.last_committable
        self.last_committable = committable

    @invariant()
    def pending_commit_is_new_progress_only(self) -> None:
        committable = self.progress.committable
        expected = None if committable in {None, self.committed} else committable
        assert self.progress.pending_commit() == expected

    @invariant()
    def inflight_and_oldest_timestamp_follow_the_unfinished(self) -> None:
        unfinished = [offset for offset in self.started if offset not in self.done]
        assert self.progress.inflight == len(unfinished)
        oldest = self.timestamps[min(unfinished)] if unfinished else None
        assert self.progress.oldest_unfinished_timestamp_ms() == oldest

    @invariant()
    def memory_holds_only_the_unfinished_window(self) -> None:
        assert self.progress.finished <= set(self.progress.started)
        if self.progress.started:
            assert self.progress.started[0] not in self.done
        assert set(self.progress.oldest_timestamp_ms) == set(self.started) - self.done


TestProgressModel = ProgressModel.TestCase
TestProgressModel.settings = settings(max_examples=60, stateful_step_count=25, deadline=None)
