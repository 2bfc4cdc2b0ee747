"""How both services connect to Kafka: brokers, and TLS/SASL when the cluster needs them.

``KAFKA_SECURITY_PROTOCOL`` is PLAINTEXT (default), SSL, SASL_PLAINTEXT or SASL_SSL.
SASL takes ``KAFKA_SASL_MECHANISM`` (PLAIN, SCRAM-SHA-256, SCRAM-SHA-512) with
``KAFKA_SASL_USERNAME`` and ``KAFKA_SASL_PASSWORD``; TLS may name a CA bundle in
``KAFKA_SSL_CAFILE``, and a client certificate for mutual TLS in ``KAFKA_SSL_CERTFILE``
and ``KAFKA_SSL_KEYFILE`` (``KAFKA_SSL_KEY_PASSWORD`` when the key is encrypted).
Every aiokafka client of ours is built from :meth:`client_options`.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from aiokafka.helpers import create_ssl_context

from envsettings.readers import SettingsError, read_choice, read_str

if TYPE_CHECKING:
    from collections.abc import Mapping

PROTOCOLS = frozenset({"plaintext", "ssl", "sasl_plaintext", "sasl_ssl"})
MECHANISMS = frozenset({"plain", "scram-sha-256", "scram-sha-512"})
_DURABILITY_OPTIONS = frozenset({"acks", "enable_idempotence"})


@dataclass(frozen=True, slots=True)
class KafkaConnection:
    """Where the brokers are and how to authenticate; the password never shows in ``repr``."""

    bootstrap_servers: str
    security_protocol: str = "PLAINTEXT"
    sasl_mechanism: str = "PLAIN"
    sasl_username: str = ""
    sasl_password: str = field(default="", repr=False)
    ssl_cafile: str = ""
    ssl_certfile: str = ""
    ssl_keyfile: str = ""
    ssl_key_password: str = field(default="", repr=False)

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> KafkaConnection:
        """Read the ``KAFKA_*`` variables, refusing SASL without both credentials."""
        protocol = read_choice("KAFKA_SECURITY_PROTOCOL", "plaintext", PROTOCOLS, environ)
        connection = cls(
            bootstrap_servers=read_str("KAFKA_BOOTSTRAP_SERVERS", "127.0.0.1:9092", environ),
            security_protocol=protocol.upper(),
            sasl_mechanism=read_choice(
                "KAFKA_SASL_MECHANISM", "plain", MECHANISMS, environ
            ).upper(),
            sasl_username=read_str("KAFKA_SASL_USERNAME", "", environ),
            sasl_password=read_str("KAFKA_SASL_PASSWORD", "", environ),
            ssl_cafile=read_str("KAFKA_SSL_CAFILE", "", environ),
            ssl_certfile=read_str("KAFKA_SSL_CERTFILE", "", environ),
            ssl_keyfile=read_str("KAFKA_SSL_KEYFILE", "", environ),
            ssl_key_password=read_str("KAFKA_SSL_KEY_PASSWORD", "", environ),
        )
        connection.check()
        return connection

    def check(self) -> None:
        """Refuse SASL without credentials, and half a client certificate."""
        if self.uses_sasl and not (self.sasl_username and self.sasl_password):
            msg = "KAFKA_SASL_USERNAME and KAFKA_SASL_PASSWORD are required with SASL"
            raise SettingsError(msg)
        if bool(self.ssl_certfile) != bool(self.ssl_keyfile):
            msg = "KAFKA_SSL_CERTFILE and KAFKA_SSL_KEYFILE go together (mutual TLS)"
            raise SettingsError(msg)

    @property
    def uses_sasl(self) -> bool:
        """Whether the protocol authenticates with SASL."""
        return self.security_protocol.startswith("SASL")

    def client_options(self) -> dict[str, Any]:
        """Keyword arguments shared by every aiokafka producer, consumer and admin client."""
        options: dict[str, Any] = {
            "bootstrap_servers": self.bootstrap_servers,
            "security_protocol": self.security_protocol,
        }
        if self.security_protocol in {"SSL", "SASL_SSL"}:
            options["ssl_context"] = create_ssl_context(
                cafile=self.ssl_cafile or None,
                certfile=self.ssl_certfile or None,
                keyfile=self.ssl_keyfile or None,
                password=self.ssl_key_password or None,
            )
        if self.uses_sasl:
            options["sasl_mechanism"] = self.sasl_mechanism
            options["sasl_plain_username"] = self.sasl_username
            options["sasl_plain_password"] = self.sasl_password
        return options

    def producer_options(self, client_id: str, **overrides: Any) -> dict[str, Any]:  # noqa: ANN401 -- aiokafka's keyword arguments are loosely typed
        """Keyword arguments of every producer: ``acks=all`` and idempotence, so nothing is lost.

        ``overrides`` adds what one producer needs beyond that (a request timeout, a
        larger request size); it cannot weaken the acknowledgement or the idempotence.
        """
        if _DURABILITY_OPTIONS & overrides.keys():
            msg = "acks and enable_idempotence are fixed for every producer"
            raise ValueError(msg)
        return {
            **self.client_options(),
            "acks": "all",
            "enable_idempotence": True,
            "client_id": client_id,
            **overrides,
        }
