"""The seven drills of issue 8: which fault, on which replicas, and the duplicates it may cost.

The duplicate bounds are the README's ("The mailer", delivery guarantee): a mail is
sent twice only when a mailer dies between the relay's ``250`` and the commit (at most
its in-flight records), when a rebalance abandons a send that outlasted the drain (at
most the in-flight records), or when the relay's connection drops before its ``250``
reaches the mailer (at most one mail per pooled connection). Faults none of those cases
cover must cost no duplicate at all.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from devstack.ports import free_port
from drills import cluster_faults, faults, verdicts
from drills.settings import DrillSettings
from drills.system import Layout, SystemUnderDrill

NO_RELAY_POLL_SECONDS = "3600"
"""Replica A's fallback poll in drill 4: it must not publish B's rows before the kill."""
NO_RELAY_WAKE = {"OUTBOX_POLL_SECONDS": NO_RELAY_POLL_SECONDS, "OUTBOX_LISTEN": "false"}
"""Replica A in drill 4: neither its poll nor B's commits (NOTIFY) wake it before the kill."""


def _no_preparation(_system: SystemUnderDrill) -> None:
    return


def _route_to_replica_b(system: SystemUnderDrill) -> None:
    system.router.route_to(1)


@dataclass(frozen=True, slots=True)
class Drill:
    """One fault scenario and how its outcome is judged."""

    number: int
    title: str
    layout: Layout
    inject: faults.Injector
    duplicate_bound: Callable[[DrillSettings], int]
    prepare: Callable[[SystemUnderDrill], None] = _no_preparation
    checks: tuple[verdicts.Check, ...] = field(default=())
    cluster: bool = False
    """Runs on the three-node cluster instead of the single broker."""


def _none(_settings: DrillSettings) -> int:
    return 0


def _one_inflight_window(settings: DrillSettings) -> int:
    """Allow what a killed mailer had in flight to be resent (README, first case)."""
    return settings.max_inflight


def _one_rebalance(settings: DrillSettings) -> int:
    """Allow a group coordinator's move to cost one rebalance's in-flight records."""
    return settings.max_inflight


def _two_rebalances(settings: DrillSettings) -> int:
    """Allow each restart's partition move to resend its in-flight records (second case)."""
    return 2 * settings.max_inflight


def _pooled_connections(settings: DrillSettings) -> int:
    """Allow one resend per open connection when the relay dies mid-reply (third case)."""
    return settings.smtp_pool_size


def all_drills() -> list[Drill]:
    """Define the drills, in issue order."""
    unreachable_broker = f"127.0.0.1:{free_port()}"
    return [
        Drill(1, "broker killed", Layout(), faults.kill_broker, _none),
        Drill(2, "SMTP server down", Layout(), faults.stop_smtp, _pooled_connections),
        Drill(
            3, "mailer replica killed", Layout(mailers=2), faults.kill_mailer, _one_inflight_window
        ),
        Drill(
            4,
            "movies replica killed before publish",
            Layout(
                movies=(
                    NO_RELAY_WAKE,
                    {"KAFKA_BOOTSTRAP_SERVERS": unreachable_broker},
                )
            ),
            faults.kill_movies_with_unpublished_rows,
            _none,
            prepare=_route_to_replica_b,
            checks=(verdicts.caught_unpublished_rows,),
        ),
        Drill(
            5,
            "PostgreSQL restarted",
            Layout(movies=({}, {})),
            faults.restart_postgres,
            _none,
            checks=(verdicts.only_unavailable_refusals, verdicts.every_replica_recovered),
        ),
        Drill(
            6,
            "rolling restart of mailers",
            Layout(mailers=2),
            faults.rolling_restart_mailers,
            _two_rebalances,
            checks=(verdicts.clean_exits,),
        ),
        Drill(
            7,
            "slow SMTP",
            Layout(),
            faults.slow_smtp,
            _none,
            checks=(
                verdicts.inflight_bounded,
                verdicts.memory_flat,
                verdicts.lag_grew_then_drained,
            ),
        ),
        *cluster_drills(),
    ]


CLUSTER_LAYOUT = Layout(mailers=2)
"""Two mailers share the group, as a deployment that outgrew one machine runs them."""


def cluster_drills() -> list[Drill]:
    """Drills 8 to 10, on the three-node cluster (replication 3, ``min.insync.replicas=2``)."""
    return [
        Drill(
            8,
            "partition leader killed (cluster)",
            CLUSTER_LAYOUT,
            cluster_faults.kill_partition_leader,
            _one_rebalance,
            cluster=True,
        ),
        Drill(
            9,
            "one in-sync replica left (cluster)",
            CLUSTER_LAYOUT,
            cluster_faults.leave_one_replica,
            _one_rebalance,
            checks=(verdicts.writes_blocked_visibly,),
            cluster=True,
        ),
        Drill(
            10,
            "rolling restart of brokers (cluster)",
            CLUSTER_LAYOUT,
            cluster_faults.rolling_restart_brokers,
            _one_rebalance,
            cluster=True,
        ),
    ]


def select(numbers: set[int] | None) -> list[Drill]:
    """Pick the drills with these numbers (all of them for None), in issue order."""
    return [drill for drill in all_drills() if numbers is None or drill.number in numbers]
