"""The marketing service's wire contract: what its answers promise their clients.

The service (lab/marketing), the application probes (collectors/app) and the
load test (loadtest) all import this one module, so every side agrees byte for
byte on what is hashed and on the header names; the collectors learn it here,
from the core, not from the twin's code.

- JSON responses carry `X-Emops-Checksum: sha256=<hex>` over the canonical
  serialisation of the body's `data` field (sorted keys, no spaces, UTF-8).
  The service never puts floats in `data` of business answers (money is integer
  fen), so a client can rebuild `data` from SQL and compare digests.
- The CSV export cannot know its digest before it has streamed, so it ends with
  a trailer line `#emops-export sha256=<hex> rows=<n>` covering every byte before
  it; `rows` counts data rows (not the CSV header). The leading `#` lets CSV
  readers skip it as a comment.
- POST /payments takes an `Idempotency-Key` header; a retry with the same key
  and body is answered with the original reply and `Idempotent-Replayed: true`.
"""

from __future__ import annotations

import hashlib
import json
import re
from typing import Any

HEADER = "X-Emops-Checksum"
KEY_HEADER = "Idempotency-Key"  # POST /payments: at most one payment per key
REPLAYED_HEADER = "Idempotent-Replayed"  # "true" on a replayed answer
ALGORITHM = "sha256"
TRAILER_PREFIX = b"#emops-export "
_TRAILER = re.compile(rb"#emops-export sha256=([0-9a-f]{64}) rows=([0-9]+)\n?")


class ChecksumMismatch(ValueError):
    """The bytes received are not the bytes the service meant to send."""


def canonical_json(data: Any) -> bytes:
    """The one serialisation both sides hash: sorted keys, no spaces, UTF-8."""
    return json.dumps(
        data, sort_keys=True, separators=(",", ":"), ensure_ascii=False, allow_nan=False
    ).encode("utf-8")


def digest(data: Any) -> str:
    """Hex sha256 of the canonical serialisation of `data`."""
    return hashlib.sha256(canonical_json(data)).hexdigest()


def header_value(data: Any) -> str:
    """The `X-Emops-Checksum` header value for a response whose `data` is `data`."""
    return f"{ALGORITHM}={digest(data)}"


def verify_json(body: bytes | str, header: str | None) -> Any:
    """Parse a JSON response, check its checksum header and return its `data` field."""
    if not header:
        raise ChecksumMismatch(f"response has no {HEADER} header")
    data = json.loads(body).get("data")
    if header != header_value(data):
        raise ChecksumMismatch(f"{HEADER} {header} does not match the body's data")
    return data


def export_trailer(sha256_hex: str, rows: int) -> bytes:
    """The last line of a CSV export: digest of all bytes before it and the row count."""
    return TRAILER_PREFIX + f"sha256={sha256_hex} rows={rows}\n".encode("ascii")


def split_export(body: bytes) -> tuple[bytes, str, int]:
    """Split an export into (csv bytes, announced sha256, announced rows)."""
    cut = body.rfind(b"\n" + TRAILER_PREFIX)
    start = cut + 1 if cut >= 0 else (0 if body.startswith(TRAILER_PREFIX) else -1)
    match = _TRAILER.fullmatch(body[start:]) if start >= 0 else None
    if match is None:
        raise ChecksumMismatch("export has no trailer line (truncated?)")
    return body[:start], match.group(1).decode("ascii"), int(match.group(2))


def verify_export(body: bytes) -> tuple[bytes, int]:
    """Check a whole CSV export against its trailer; return (csv bytes, data rows)."""
    csv_bytes, announced, rows = split_export(body)
    actual = hashlib.sha256(csv_bytes).hexdigest()
    if actual != announced:
        raise ChecksumMismatch(f"export sha256 {actual} != trailer {announced}")
    lines = csv_bytes.count(b"\n")
    if lines != rows + 1:
        raise ChecksumMismatch(f"export has {lines - 1} data rows, trailer says {rows}")
    return csv_bytes, rows
