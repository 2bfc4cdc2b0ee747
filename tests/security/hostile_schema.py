"""A hostile schemathesis pass over the whole OpenAPI document, counted by strategy.

Strategies, each against every operation:

- ``positive``, ``negative``: schemathesis' own generation (negative: values the schema
  forbids), with its Unicode codec (``utf-8``, NUL bytes allowed) for every string;
- ``unicode``: the generated JSON body with every string replaced by any Unicode text,
  lone surrogates included (sent as ``\\udXXX`` escapes), and query strings likewise;
- ``invalid-utf8``: the generated JSON body with bytes that are not UTF-8 inside a string,
  and query values percent-encoding such bytes;
- ``deeply-nested``: the generated body, or one of its fields, wrapped in 100 to 7,000
  arrays or objects, always under the body limit.

Every response must be below 500. A body no JSON decoder may accept (invalid UTF-8,
nesting past 1,000 levels) must also get a 4xx problem document; shallower nesting in a
field the API ignores, or Unicode that happens to be valid, may rightly succeed.
"""

from __future__ import annotations

import json
import sys
from collections import Counter
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any
from urllib.parse import urlencode

import requests
import schemathesis
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from hypothesis.errors import Unsatisfiable

if TYPE_CHECKING:
    from collections.abc import Callable

BODY_LIMIT = 16_384
UNDECODABLE_DEPTH = 1_000  # past the server's recursion limit, whatever its stack holds
INVALID_UTF8 = [
    b"\xff",
    b"\xfe\xff",
    b"\xc0\xaf",
    b"\xed\xa0\x80",
    b"\xe2\x82",
    b"\x80",
    b"\xf8\x88\x80\x80\x80",
]
STRATEGIES = ("positive", "negative", "unicode", "invalid-utf8", "deeply-nested")
_MODES = {
    "positive": schemathesis.GenerationMode.POSITIVE,
    "negative": schemathesis.GenerationMode.NEGATIVE,
}
# Deep JSON is built and encoded by hand: Python's own encoder stops near 1,000 levels.
sys.setrecursionlimit(max(sys.getrecursionlimit(), 20_000))


@dataclass
class Tally:
    """Responses by strategy and status class, and the requests that broke the rules."""

    statuses: dict[str, Counter[str]] = field(default_factory=dict)
    failures: list[str] = field(default_factory=list)

    def count(self, strategy: str, status: int) -> None:
        self.statuses.setdefault(strategy, Counter())[f"{status // 100}xx"] += 1

    def cases(self, strategy: str | None = None) -> int:
        chosen = [strategy] if strategy else list(self.statuses)
        return sum(sum(self.statuses.get(name, Counter()).values()) for name in chosen)

    def server_errors(self) -> int:
        return sum(counts["5xx"] for counts in self.statuses.values())


def _strings(value: Any, replace: Callable[[str], str]) -> Any:
    """``value`` with every string (keys too) passed through ``replace``."""
    if isinstance(value, str):
        return replace(value)
    if isinstance(value, list):
        return [_strings(item, replace) for item in value]
    if isinstance(value, dict):
        return {replace(key): _strings(item, replace) for key, item in value.items()}
    return value


def _unicode_body(body: Any, data: st.DataObject) -> tuple[bytes, bool]:
    texts = st.text(alphabet=st.characters(codec=None), max_size=40)
    encoded = json.dumps(_strings(body, lambda _: data.draw(texts)), ensure_ascii=True)
    return encoded.encode(), False


def _invalid_utf8_body(body: Any, data: st.DataObject) -> tuple[bytes, bool]:
    marker = "\u2603MARK\u2603"
    document = _strings(body, lambda text: marker + text) if _has_string(body) else [marker]
    encoded = json.dumps(document, ensure_ascii=False).encode()
    bad = data.draw(st.sampled_from(INVALID_UTF8), label="bytes")
    return encoded.replace(marker.encode(), bad), True


def _has_string(value: Any) -> bool:
    if isinstance(value, str):
        return True
    if isinstance(value, list):
        return any(_has_string(item) for item in value)
    if isinstance(value, dict):
        return bool(value) or any(_has_string(item) for item in value.values())
    return False


def _nested_body(body: Any, data: st.DataObject) -> tuple[bytes, bool]:
    opener, closer = data.draw(st.sampled_from([(b"[", b"]"), (b'{"a":', b"}")]), label="kind")
    inner = json.dumps(body).encode()
    room = (BODY_LIMIT - len(inner) - 64) // (len(opener) + len(closer))
    depth = data.draw(st.integers(min(100, room), max(min(7_000, room), 100)), label="depth")
    nested = opener * depth + b"1" + closer * depth
    undecodable = depth >= UNDECODABLE_DEPTH
    if isinstance(body, dict) and body and data.draw(st.booleans(), label="in a field"):
        key = data.draw(st.sampled_from(sorted(body)), label="field")
        document = json.dumps({**body, key: "\x00NEST"}).encode()
        return document.replace(b'"\\u0000NEST"', nested), undecodable
    return nested, undecodable


_MUTATIONS: dict[str, Callable[[Any, st.DataObject], tuple[bytes, bool]]] = {
    "unicode": _unicode_body,
    "invalid-utf8": _invalid_utf8_body,
    "deeply-nested": _nested_body,
}


@dataclass
class HostileRun:
    """The pass: the API's base URL, the headers every request carries, the budget."""

    base_url: str
    headers: dict[str, str]
    examples: int
    tally: Tally = field(default_factory=Tally)

    def run(self) -> Tally:
        schema = schemathesis.openapi.from_url(f"{self.base_url}/schema/openapi.json")
        operations = [result.ok() for result in schema.get_all_operations()]
        for operation in operations:
            for strategy in _applicable(operation):
                self._fuzz(operation, strategy)
        return self.tally

    def _fuzz(self, operation: schemathesis.APIOperation, strategy: str) -> None:
        mode = _MODES.get(strategy, schemathesis.GenerationMode.POSITIVE)

        @given(case=operation.as_strategy(generation_mode=mode), data=st.data())
        @settings(
            max_examples=self.examples,
            deadline=None,
            suppress_health_check=list(HealthCheck),
            derandomize=True,
            database=None,
        )
        def check(case: schemathesis.Case, data: st.DataObject) -> None:
            self._send(case, strategy, data)

        try:
            check()
        except Unsatisfiable:
            if strategy != "negative":  # an operation without input has nothing to spoil
                raise

    def _send(self, case: schemathesis.Case, strategy: str, data: st.DataObject) -> None:
        kwargs = case.as_transport_kwargs(base_url=self.base_url, headers=self.headers)
        undecodable = strategy in _MUTATIONS and _spoil(kwargs, case, strategy, data)
        reply = requests.request(**kwargs, timeout=30)
        self.tally.count(strategy, reply.status_code)
        if reply.status_code >= 500 or (undecodable and not _refused_cleanly(reply)):
            self.tally.failures.append(
                f"{strategy}: {kwargs['method']} {kwargs['url']} -> {reply.status_code} "
                f"{reply.text[:300]!r}; body {(kwargs.get('data') or b'')[:200]!r}"
            )


def _applicable(operation: schemathesis.APIOperation) -> list[str]:
    """Every strategy that has something to spoil in this operation."""
    has_body, has_query = len(operation.body) > 0, bool(operation.query)
    spoilable = {
        "unicode": has_body or has_query,
        "invalid-utf8": has_body or has_query,
        "deeply-nested": has_body,
    }
    return [strategy for strategy in STRATEGIES if spoilable.get(strategy, True)]


def _spoil(
    kwargs: dict[str, Any], case: schemathesis.Case, strategy: str, data: st.DataObject
) -> bool:
    """Make the body (when the operation takes one) and the query hostile.

    Return whether the body is one no JSON decoder may accept.
    """
    undecodable = False
    if "json" in kwargs or case.media_type == "application/json":
        kwargs["data"], undecodable = _MUTATIONS[strategy](kwargs.pop("json", None), data)
        kwargs["headers"] = {**kwargs.get("headers", {}), "Content-Type": "application/json"}
    params = kwargs.get("params")
    if isinstance(params, dict) and params and strategy != "deeply-nested":
        kwargs["params"] = _hostile_query(params, strategy, data)
    return undecodable


def _hostile_query(params: dict[str, Any], strategy: str, data: st.DataObject) -> str:
    """A query string whose values are any Unicode, or percent-encoded invalid UTF-8."""
    if strategy == "unicode":
        texts = st.text(alphabet=st.characters(codec="utf-8"), min_size=1, max_size=20)
        return urlencode({key: data.draw(texts) for key in params})
    bad = data.draw(st.sampled_from(INVALID_UTF8), label="query bytes")
    encoded = "".join(f"%{byte:02X}" for byte in bad)
    return "&".join(f"{key}={encoded}" for key in params)


def _refused_cleanly(reply: requests.Response) -> bool:
    """An undecodable body must be refused with a 4xx problem document."""
    content_type = reply.headers.get("content-type", "")
    return 400 <= reply.status_code < 500 and content_type == "application/problem+json"
