"""What a drill saw, and the rules that decide whether it passed.

Every drill must lose nothing, mail every code exactly as issued, keep duplicates within
the bound the README states for its fault, and leave no outbox row unpublished. Some
drills add rules of their own (only 503 while the database is down, the in-flight bound
under a slow relay, and so on).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field

from drills.faults import FaultWindow
from drills.matcher import MatchResult
from drills.sampler import MoviesSample, Sample, max_lag, rss_profile
from drills.settings import DrillSettings
from drills.traffic import ACCEPTED, Attempt, outcomes

UNAVAILABLE = 503
MIB = 1024 * 1024
RSS_GROWTH_LIMIT_BYTES = 64 * MIB
"""How much a mailer may grow under a backlog: the backlog stays in Kafka, not in memory."""
DRAINED_LAG_SECONDS = 1.0
LATE_SECONDS = 2.0
"""A code mailed within this long after its ``202`` was not held up by a fault."""


@dataclass(frozen=True, slots=True)
class Evidence:
    """Everything measured during one drill."""

    settings: DrillSettings
    window: FaultWindow
    attempts: Sequence[Attempt]
    result: MatchResult
    samples: Sequence[Sample]
    notes: Mapping[str, str]
    unpublished_at_end: int
    movies_samples: Sequence[MoviesSample] = field(default=())


Check = Callable[[Evidence, dict[str, str]], list[str]]
"""A drill-specific rule: returns the reasons it failed, may add notes for the report."""


def basic_failures(evidence: Evidence, duplicate_bound: int) -> list[str]:
    """Apply the rules every drill obeys; return the reasons it failed."""
    result = evidence.result
    rules = [
        (result.requested > 0, "no request was accepted, so nothing was proven"),
        (result.lost == 0, f"{result.lost} requested codes were never mailed"),
        (
            result.duplicates <= duplicate_bound,
            f"{result.duplicates} duplicates exceed the bound of {duplicate_bound}",
        ),
        (result.mismatched == 0, f"{result.mismatched} mails carried a code that was not issued"),
        (
            evidence.unpublished_at_end == 0,
            f"{evidence.unpublished_at_end} outbox rows were never published",
        ),
    ]
    return [reason for ok, reason in rules if not ok]


def _waits(evidence: Evidence) -> list[tuple[float, float]]:
    """(answered at, waited) of every accepted code that was mailed."""
    delivered = evidence.result.first_delivery
    return [
        (attempt.answered_at, delivered[attempt.address] - attempt.answered_at)
        for attempt in evidence.attempts
        if attempt.accepted and attempt.address in delivered
    ]


def longest_wait(evidence: Evidence) -> float:
    """Return the longest any code waited between its ``202`` and its mail."""
    return max((waited for _, waited in _waits(evidence)), default=0.0)


def time_to_recover(evidence: Evidence) -> float | None:
    """Seconds from the fault's end until the last late code (waited > 2 s) was mailed.

    End to end, from the ``202`` to the sink, so it covers the outbox, Kafka and SMTP
    stages and survives a dead mailer (which exports no lag of its own). None when an
    accepted code never arrived: the drill lost it, so it never recovered.
    """
    if evidence.result.lost:
        return None
    end = evidence.window.end
    late = [answered + waited for answered, waited in _waits(evidence) if waited > LATE_SECONDS]
    return max([end, *late]) - end


def only_unavailable_refusals(evidence: Evidence, notes: dict[str, str]) -> list[str]:
    """While the database is down the API must say 503, never 500 or a dropped connection."""
    refused = {
        outcome: count
        for outcome, count in outcomes(evidence.attempts).items()
        if outcome not in {str(ACCEPTED), str(UNAVAILABLE)}
    }
    notes["refused with 503"] = str(outcomes(evidence.attempts)[str(UNAVAILABLE)])
    if refused:
        return [f"refusals other than 503: {dict(sorted(refused.items()))}"]
    return []


def every_replica_recovered(evidence: Evidence, _notes: dict[str, str]) -> list[str]:
    """Each movies replica accepted requests again after the fault, without a restart."""
    used = {attempt.replica for attempt in evidence.attempts}
    recovered = {
        attempt.replica
        for attempt in evidence.attempts
        if attempt.accepted and attempt.sent_at > evidence.window.end
    }
    missing = sorted(used - recovered)
    return [f"replicas {missing} accepted nothing after the fault"] if missing else []


def caught_unpublished_rows(evidence: Evidence, _notes: dict[str, str]) -> list[str]:
    """Require the kill to land on committed, unpublished rows, or it proved nothing."""
    if int(evidence.notes.get("unpublished rows at kill", "0")) < 1:
        return ["the killed replica held no unpublished outbox row"]
    return []


def clean_exits(evidence: Evidence, _notes: dict[str, str]) -> list[str]:
    """Require exit status 0 after SIGTERM (in-flight work drained and committed)."""
    statuses = evidence.notes.get("exit statuses", "")
    bad = [item for item in statuses.split(", ") if not item.endswith("=0")]
    return [f"unclean exits after SIGTERM: {', '.join(bad)}"] if bad else []


def inflight_bounded(evidence: Evidence, notes: dict[str, str]) -> list[str]:
    """No mailer ever held more records than ``MAILER_MAX_INFLIGHT``."""
    peak = max((sample.inflight for sample in evidence.samples), default=0.0)
    bound = evidence.settings.max_inflight
    notes["peak in-flight"] = f"{peak:.0f} (bound {bound})"
    return [f"{peak:.0f} records in flight, over the bound of {bound}"] if peak > bound else []


def memory_flat(evidence: Evidence, notes: dict[str, str]) -> list[str]:
    """Require the backlog to wait in Kafka: the RSS stays within a fixed allowance."""
    reasons = []
    for replica in sorted({sample.replica for sample in evidence.samples}):
        profile = rss_profile(evidence.samples, replica)
        if profile is None:
            continue
        first, peak, last = profile
        notes[f"RSS {replica} start/peak/end (MiB)"] = "/".join(
            f"{value / MIB:.0f}" for value in profile
        )
        if max(peak, last) - first > RSS_GROWTH_LIMIT_BYTES:
            reasons.append(f"{replica} grew by {(peak - first) / MIB:.0f} MiB")
    return reasons


def lag_grew_then_drained(evidence: Evidence, notes: dict[str, str]) -> list[str]:
    """Require the slow relay to show as lag, gone again once the relay is fast."""
    reasons = []
    grown = max_lag(evidence.samples)
    if grown < evidence.window.seconds / 2:
        reasons.append(f"lag peaked at {grown:.1f}s: the slow relay never built a backlog")
    last = {sample.replica: sample.lag_seconds for sample in evidence.samples}
    notes["final lag (s)"] = ", ".join(f"{name}={lag:.1f}" for name, lag in sorted(last.items()))
    if any(lag > DRAINED_LAG_SECONDS for lag in last.values()):
        reasons.append("the lag did not drain back to zero")
    return reasons


def _failures_since(samples: Sequence[MoviesSample], moment: float) -> float:
    """Failed publishes counted from ``moment`` on, summed over the movies replicas."""
    total = 0.0
    for replica in {sample.replica for sample in samples}:
        mine = [s for s in samples if s.replica == replica]
        before = [s.publish_failures for s in mine if s.at < moment]
        total += max(s.publish_failures for s in mine) - max(before, default=0.0)
    return total


def writes_blocked_visibly(evidence: Evidence, notes: dict[str, str]) -> list[str]:
    """With too few in-sync replicas, the outbox backlog must grow where operators see it.

    ``movies_outbox_pending_messages`` must rise above its level when the fault began
    (the relay keeps the rows it could not get acknowledged instead of dropping them);
    the failed publishes (``movies_kafka_publish_total{result!="ok"}``) are noted.
    """
    window, samples = evidence.window, evidence.movies_samples
    lookback = window.start - 2 * evidence.settings.sample_interval_seconds
    at_fault = [s.outbox_pending for s in samples if lookback <= s.at < window.start]
    during = [s.outbox_pending for s in samples if window.start <= s.at <= window.end]
    if not during:
        return ["no movies replica could be scraped while writes were impossible"]
    start, peak = max(at_fault, default=0.0), max(during)
    failed = _failures_since(samples, window.start)
    notes["outbox backlog when the fault began / at its peak"] = f"{start:.0f} / {peak:.0f}"
    notes["publishes not acknowledged (error, timeout) from the fault on"] = f"{failed:.0f}"
    if peak <= start:
        return [f"the outbox backlog never grew ({start:.0f} to {peak:.0f}): writes went on"]
    return []
