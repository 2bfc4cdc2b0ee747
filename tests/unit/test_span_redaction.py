from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.trace import Status, StatusCode

from telemetry.span_redaction import RedactingSpanExporter, redact_attributes, redact_span


def test_message_keys_and_secrets_are_dropped_and_addresses_masked() -> None:
    cleaned = redact_attributes(
        {
            "messaging.kafka.message.key": "alice@example.com",
            "http.request.header.authorization": "Bearer abc",
            "db.statement.password": "hunter2",
            "error.message": "550 <bob@example.org> unknown",
            "mail.message_id": "<6f1c@reelmail.example>",
            "smtp.reply.code": 250,
            "server.address": "smtp.example.net",
        }
    )
    assert cleaned["messaging.kafka.message.key"] == "[redacted]"
    assert cleaned["http.request.header.authorization"] == "[redacted]"
    assert cleaned["db.statement.password"] == "[redacted]"
    assert cleaned["error.message"] == "550 <b***@example.org> unknown"
    assert cleaned["mail.message_id"] == "<6f1c@reelmail.example>"
    assert cleaned["smtp.reply.code"] == 250
    assert cleaned["server.address"] == "smtp.example.net"


def test_exported_spans_are_redacted_including_events_and_status() -> None:
    memory = InMemorySpanExporter()
    provider = TracerProvider()
    provider.add_span_processor(SimpleSpanProcessor(RedactingSpanExporter(memory)))
    tracer = provider.get_tracer("unit")
    with tracer.start_as_current_span("send") as span:
        span.set_attribute("messaging.kafka.message.key", "carol@example.net")
        span.add_event("refused", {"reply": "550 carol@example.net"})
        span.set_status(Status(StatusCode.ERROR, "rejected carol@example.net"))
    [exported] = memory.get_finished_spans()
    assert "carol@example.net" not in repr(exported.attributes)
    assert exported.events[0].attributes == {"reply": "550 c***@example.net"}
    assert exported.status.description == "rejected c***@example.net"


def test_spans_with_nothing_to_redact_are_exported_as_they_are() -> None:
    memory = InMemorySpanExporter()
    provider = TracerProvider()
    provider.add_span_processor(SimpleSpanProcessor(memory))
    with provider.get_tracer("unit").start_as_current_span("smtp send") as span:
        span.set_attribute("mail.recipient.domain", "example.com")
        span.set_attribute("mail.message_id", "<6f1c@reelmail.example>")
        span.set_attribute("smtp.reply.code", 250)
    [finished] = memory.get_finished_spans()
    assert redact_span(finished) is finished


def test_one_address_or_secret_is_enough_to_copy_and_redact() -> None:
    memory = InMemorySpanExporter()
    provider = TracerProvider()
    provider.add_span_processor(SimpleSpanProcessor(RedactingSpanExporter(memory)))
    tracer = provider.get_tracer("unit")
    for key, value in (("error.message", "dave@example.com"), ("user.token", "abc")):
        with tracer.start_as_current_span("send") as span:
            span.set_attribute("server.address", "smtp.example.net")
            span.set_attribute(key, value)
    exported = memory.get_finished_spans()
    assert [
        span.attributes[key]
        for span, key in zip(exported, ("error.message", "user.token"), strict=True)
    ] == [
        "d***@example.com",
        "[redacted]",
    ]
