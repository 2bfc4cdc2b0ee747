"""Mutual TLS to the brokers: the client certificate named by KAFKA_SSL_CERTFILE and
KAFKA_SSL_KEYFILE is what a server that requires one receives, through the very
ssl_context every aiokafka client of ours is built with."""

from __future__ import annotations

import socket
import ssl
import threading
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from envsettings import KafkaConnection, SettingsError

if TYPE_CHECKING:
    from pathlib import Path


def _certificate(
    name: str,
    key: ec.EllipticCurvePrivateKey,
    issuer: tuple[x509.Name, ec.EllipticCurvePrivateKey] | None,
) -> x509.Certificate:
    subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, name)])
    issuer_name, issuer_key = issuer or (subject, key)
    now = datetime.now(UTC)
    builder = (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(issuer_name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - timedelta(minutes=1))
        .not_valid_after(now + timedelta(hours=1))
        .add_extension(x509.BasicConstraints(ca=issuer is None, path_length=None), critical=True)
    )
    if name == "localhost":
        builder = builder.add_extension(
            x509.SubjectAlternativeName([x509.DNSName("localhost")]), critical=False
        )
    return builder.sign(issuer_key, hashes.SHA256())


def _write(path: Path, certificate: x509.Certificate, key: ec.EllipticCurvePrivateKey) -> None:
    path.with_suffix(".crt").write_bytes(certificate.public_bytes(serialization.Encoding.PEM))
    path.with_suffix(".key").write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )


@pytest.fixture
def pki(tmp_path: Path) -> Path:
    """A CA, a server certificate for localhost and a client certificate for the mailer."""
    ca_key = ec.generate_private_key(ec.SECP256R1())
    ca = _certificate("reelmail test CA", ca_key, None)
    _write(tmp_path / "ca", ca, ca_key)
    for name in ("localhost", "mailer"):
        key = ec.generate_private_key(ec.SECP256R1())
        _write(tmp_path / name, _certificate(name, key, (ca.subject, ca_key)), key)
    return tmp_path


def _peer_seen_by_a_server_that_requires_a_client_certificate(
    pki: Path, client: ssl.SSLContext
) -> str:
    server = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH, cafile=str(pki / "ca.crt"))
    server.load_cert_chain(pki / "localhost.crt", pki / "localhost.key")
    server.verify_mode = ssl.CERT_REQUIRED
    seen: list[str] = []
    with socket.create_server(("127.0.0.1", 0)) as listener:
        port = listener.getsockname()[1]

        def accept() -> None:
            connection, _ = listener.accept()
            with server.wrap_socket(connection, server_side=True) as tls:
                subject = dict(part[0] for part in tls.getpeercert()["subject"])
                seen.append(subject["commonName"])

        thread = threading.Thread(target=accept, daemon=True)
        thread.start()
        with (
            socket.create_connection(("127.0.0.1", port)) as raw,
            client.wrap_socket(raw, server_hostname="localhost") as tls,
        ):
            tls.do_handshake()
        thread.join(10)
    return seen[0]


def test_the_client_certificate_is_presented_to_the_broker(pki: Path) -> None:
    connection = KafkaConnection.from_env(
        environ={
            "KAFKA_SECURITY_PROTOCOL": "ssl",
            "KAFKA_SSL_CAFILE": str(pki / "ca.crt"),
            "KAFKA_SSL_CERTFILE": str(pki / "mailer.crt"),
            "KAFKA_SSL_KEYFILE": str(pki / "mailer.key"),
        }
    )
    context = connection.client_options()["ssl_context"]
    assert _peer_seen_by_a_server_that_requires_a_client_certificate(pki, context) == "mailer"


def test_half_a_client_certificate_is_refused(pki: Path) -> None:
    with pytest.raises(SettingsError, match="KAFKA_SSL_KEYFILE"):
        KafkaConnection.from_env(
            environ={
                "KAFKA_SECURITY_PROTOCOL": "ssl",
                "KAFKA_SSL_CERTFILE": str(pki / "mailer.crt"),
            }
        )
