import io
import json
import logging

import structlog

from telemetry import configure_logging, mask_address, recipient_domain
from telemetry.redaction import mask_embedded_addresses


def test_mask_keeps_first_letter_and_domain() -> None:
    assert mask_address("alice@example.com") == "a***@example.com"
    assert mask_address("nonsense") == "[redacted]"


def test_recipient_domain() -> None:
    assert recipient_domain("alice@example.com") == "example.com"


def test_addresses_inside_free_text_are_masked() -> None:
    text = "550 <alice.smith@example.com>: Recipient address rejected"
    assert mask_embedded_addresses(text) == "550 <a***@example.com>: Recipient address rejected"


def test_log_lines_are_json_and_never_carry_secrets() -> None:
    stream = io.StringIO()
    configure_logging("unit", stream=stream)
    structlog.get_logger("t").info(
        "sent",
        code="123456",
        password="hunter2",
        email="alice@example.com",
        error="rejected bob@example.org",
    )
    logging.getLogger("stdlib").warning("plain %s", "carol@example.net")
    lines = [json.loads(line) for line in stream.getvalue().splitlines()]
    assert [line["service"] for line in lines] == ["unit", "unit"]
    first = lines[0]
    assert first["code"] == "[redacted]"
    assert first["password"] == "[redacted]"
    assert first["email"] == "a***@example.com"
    assert first["error"] == "rejected b***@example.org"
    assert lines[1]["event"] == "plain c***@example.net"
    assert "123456" not in stream.getvalue()
    assert "hunter2" not in stream.getvalue()
