"""The message contract the movie service and the mailer both speak.

One place defines the topic, the headers, the v2 JSON schema with its sealed code and
the keyring that seals it, the clear v1 and legacy bare ``{"email", "code"}`` forms of
older producers, and the reasons a record is refused, so the two sides cannot drift apart.
See docs/architecture.md for where this fits.
"""

from mailcontract.addresses import InvalidAddressError, normalize_address
from mailcontract.otp_message import (
    Locale,
    OtpMail,
    PoisonMessageError,
    PoisonReason,
    Purpose,
    RecordPosition,
    decode_otp_mail,
    encode_otp_mail,
)
from mailcontract.sealing import Keyring, generate_key
from mailcontract.topics import (
    CONTENT_TYPE,
    DEFAULT_TOPIC,
    HEADER_CONTENT_TYPE,
    HEADER_MESSAGE_TYPE,
    MESSAGE_TYPE_OTP_V1,
    MESSAGE_TYPE_OTP_V2,
    dead_letter_topic,
)

__all__ = [
    "CONTENT_TYPE",
    "DEFAULT_TOPIC",
    "HEADER_CONTENT_TYPE",
    "HEADER_MESSAGE_TYPE",
    "MESSAGE_TYPE_OTP_V1",
    "MESSAGE_TYPE_OTP_V2",
    "InvalidAddressError",
    "Keyring",
    "Locale",
    "OtpMail",
    "PoisonMessageError",
    "PoisonReason",
    "Purpose",
    "RecordPosition",
    "dead_letter_topic",
    "decode_otp_mail",
    "encode_otp_mail",
    "generate_key",
    "normalize_address",
]
