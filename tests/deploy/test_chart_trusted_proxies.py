"""movies.trustedProxies reaches a real movies process, which then trusts X-Forwarded-For
from those addresses only: the per-client sign-in limit counts the user behind the
ingress, and a client elsewhere cannot pick its own bucket by forging the header.

The client side binds to different loopback addresses: 127.0.0.2 plays the ingress
controller (trusted), 127.0.0.3 any other peer. Kafka is a closed port: the sign-in
request only writes the outbox, which is all the rate limit needs.
"""

from __future__ import annotations

import socket
from typing import TYPE_CHECKING

import httpx
import pytest
from chart_rendering import helm, of_kind, render, template_args

from devstack.ports import free_port
from devstack.processes import ServiceProcess
from devstack.seal_keys import seal_settings

if TYPE_CHECKING:
    from collections.abc import Iterator

PROXY = "127.0.0.2"
OTHER_PEER = "127.0.0.3"
CODES_PER_CLIENT = 2


def _movies_config(*flags: str) -> dict[str, str]:
    manifests = render("minimal", *flags)
    return next(
        cm["data"]
        for cm in of_kind(manifests, "ConfigMap")
        if cm["metadata"]["labels"].get("app.kubernetes.io/component") == "movies"
    )


@pytest.fixture(scope="module")
def movies_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    config = _movies_config("--set", f"movies.trustedProxies={{{PROXY}/32}}")
    workdir = tmp_path_factory.mktemp("trusted-proxies")
    port = free_port()
    env = {
        "FORWARDED_ALLOW_IPS": config["FORWARDED_ALLOW_IPS"],
        "MOVIES_HOST": "127.0.0.1",
        "MOVIES_PORT": str(port),
        "DATABASE_URL": f"sqlite+aiosqlite:///{workdir / 'movies.db'}",
        "KAFKA_BOOTSTRAP_SERVERS": f"127.0.0.1:{free_port()}",
        "OTP_HMAC_SECRET": "trusted-proxies-hmac-secret-0123456789abcdef",
        "JWT_SECRET": "trusted-proxies-jwt-secret-0123456789abcdefgh",
        "RATE_LIMIT_CODES_PER_CLIENT": str(CODES_PER_CLIENT),
        "RATE_LIMIT_CODES_PER_ADDRESS": "1000",
        "LOG_LEVEL": "warning",
        **seal_settings(),
    }
    process = ServiceProcess("movies", env, workdir / "movies.log")
    process.start()
    try:
        process.wait_http_ok(f"http://127.0.0.1:{port}/healthz", 60)
        yield f"http://127.0.0.1:{port}"
    finally:
        process.stop()


def _sign_in_from(url: str, peer: str, forwarded_for: str, n: int) -> int:
    """Ask for a code from ``peer``, claiming to forward for ``forwarded_for``."""
    transport = httpx.HTTPTransport(local_address=peer)
    with httpx.Client(base_url=url, transport=transport, timeout=20) as client:
        reply = client.post(
            "/auth/codes",
            json={"email": f"user-{peer}-{n}@example.com"},
            headers={"X-Forwarded-For": forwarded_for},
        )
    return reply.status_code


def _loopback_alias_usable(address: str) -> bool:
    with socket.socket() as sock:
        try:
            sock.bind((address, 0))
        except OSError:
            return False
    return True


def test_the_chart_renders_trusted_proxies_into_forwarded_allow_ips():
    config = _movies_config("--set", "movies.trustedProxies={10.0.0.0/8,fd00::/8}")
    assert config["FORWARDED_ALLOW_IPS"] == "10.0.0.0/8,fd00::/8"
    assert "FORWARDED_ALLOW_IPS" not in _movies_config()


def test_each_user_behind_a_trusted_proxy_has_a_bucket_of_their_own(movies_url):
    assert _loopback_alias_usable(PROXY)
    first, second = "198.51.100.1", "198.51.100.2"
    assert [_sign_in_from(movies_url, PROXY, first, n) for n in range(3)] == [202, 202, 429]
    assert _sign_in_from(movies_url, PROXY, second, 0) == 202


def test_forwarded_for_from_any_other_peer_is_ignored(movies_url):
    assert _loopback_alias_usable(OTHER_PEER)
    forged = [f"203.0.113.{n}" for n in range(3)]
    replies = [_sign_in_from(movies_url, OTHER_PEER, xff, n) for n, xff in enumerate(forged)]
    assert replies == [202, 202, 429]


@pytest.mark.parametrize("value", ["*", "0.0.0.0/0", "::/0", "10.0.0.0/33", "proxy.local"])
def test_trusting_everyone_or_a_non_address_fails_the_render(value: str):
    flag = f"movies.trustedProxies={{{value}}}"
    result = helm(*template_args("minimal", "1.37.0", "--set", flag))
    assert result.returncode != 0
    assert "trustedProxies" in result.stderr
