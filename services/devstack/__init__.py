"""The local stack without Docker: a real Kafka broker, an SMTP sink, and `make run`.

Tests, `make run` and the benchmarks all start their broker through
:class:`devstack.kafka_broker.KafkaBroker`, so they exercise one harness.
See docs/architecture.md for where this fits.
"""

from devstack.errors import HarnessError
from devstack.kafka_broker import KafkaBroker

__all__ = ["HarnessError", "KafkaBroker"]
