"""Topic names and record headers of the one-time-code mail stream."""

from typing import Final

DEFAULT_TOPIC: Final = "mail.otp.v1"
DEAD_LETTER_SUFFIX: Final = ".dlq"

HEADER_CONTENT_TYPE: Final = "content-type"
HEADER_MESSAGE_TYPE: Final = "message-type"
CONTENT_TYPE: Final = "application/json"
MESSAGE_TYPE_OTP_V1: Final = "reelmail.otp.v1"
MESSAGE_TYPE_OTP_V2: Final = "reelmail.otp.v2"


def dead_letter_topic(topic: str) -> str:
    """Name the dead-letter topic paired with ``topic``, so operators find it by convention."""
    return f"{topic}{DEAD_LETTER_SUFFIX}"
