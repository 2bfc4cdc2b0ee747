"""How much each benchmark does: the full plan (issues 9 and 17), and the smoke plan for tests."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Plan:
    """Counts and durations; ``rate_scale`` shrinks every request rate (smoke only)."""

    runs: int = 3
    b1_messages: int = 20_000
    # The original-style consumer's rate is flat per mail (no warm-up beyond one
    # connection), so a smaller backlog measures it as well in a tenth of the time.
    b1_baseline_messages: int = 2_000
    # B6 drains the B1 backlogs (the slow case, 4 connections at 20 ms, the smaller one)
    # and this one for the original design, which pays a TCP and TLS handshake and
    # about ten round trips per mail.
    b6_original_messages: int = 200
    b2_rates: tuple[int, ...] = (100, 300, 1000)
    b2_seconds: float = 4.0
    warmup_seconds: float = 1.0
    b3_rate: int = 300
    b3_low_rate: int = 50
    b3_seconds: float = 6.0
    # B5: an open-loop ladder of rates (p50/p99 at the fixed ones, which always run), the
    # highest rate with p99 under 25 ms refined by bisection, then a closed loop; load
    # from many client addresses, as through a proxy.
    b5_ladder: tuple[int, ...] = (100, 200, 300, 500, 700, 1000, 1400, 2000, 2800, 4000)
    b5_fixed_rates: tuple[int, ...] = (300, 1000)
    b5_bisections: int = 2
    b5_step_seconds: float = 3.0
    b5_closed_seconds: float = 5.0
    b5_clients: int = 64
    rate_scale: float = 1.0
    # ``python -m movies migrate`` before serving, as the Helm hook does; the smoke run
    # lets movies migrate on start instead, which saves a second interpreter start-up.
    migrate_first: bool = True

    def rate(self, nominal: float) -> float:
        """Scale a nominal request rate to the one actually sent."""
        return nominal * self.rate_scale


FULL = Plan()
SMOKE = Plan(
    runs=1,
    b1_messages=60,
    b1_baseline_messages=12,
    b6_original_messages=6,
    b2_rates=(300,),
    b2_seconds=1.0,
    warmup_seconds=0.0,
    b3_seconds=1.0,
    b5_ladder=(300, 1000),
    b5_bisections=1,
    b5_step_seconds=1.0,
    b5_closed_seconds=1.0,
    b5_clients=4,
    rate_scale=0.05,
    migrate_first=False,
)
