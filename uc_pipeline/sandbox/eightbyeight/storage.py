"""The sandbox's 8x8 Cloud Storage Service data: each served VCC recording as its `callcenterrecording` object.

Owns the mapping from a canonical `Call` (one the Recordings API serves, render.py) to the object the Cloud
Storage Service lists for its recording, the FIQL filter the objects endpoint accepts, and the selection by
`createdTime`. Shape from 8x8's docs (providers.md 3d; vendor sample
`cloud_storage_callcenterrecording_object.json`): `id` (a UUID), `type`, `mimeType`, `objectName`,
`checksumType`, `checksum`, `customerId`, `userId`, `storedBytes`, `createdTime`/`updatedTime` (UTC, no zone,
seconds), `objectState` AVAILABLE, `bucketId`, `tags` (string values) and `shared`.

- tags `agentId` (and `userId`) <- an 8x8 user id derived from the agent (22 URL-safe characters, like the
  sample's `eqhDvk_OQJWHKP8Qdzzzzz`): not the VCC login the Recordings API names; `agentName` <- `agent.name`
  ("" without an agent, as the vendor's voicemail sample has it).
- `mediaUrl` <- the VCC recording's file name without its `S<day>/` folder (the sample's
  `R202103101740420023.wav` is that form: `R<UTC start yyyymmddHHMMSS><sequence>.wav`): what links an object to
  its VCC recording, and so the agent's name to the agent's login.
- `transactionId` <- `call_id` (the VCC transactionID); `callId` <- `int-<hex call id>-...-phone-00-<tenant>`;
  `startTime` <- the recording's start (epoch ms), `duration` <- its length (ms); `queueName`, `queueNumber`,
  `channelName`, `direction`, `callerId`/`calleeId`, `holdDuration` "0", `tenantId`.
- `createdTime` <- the recording's end + 15 s (the sample's object was created 15 s after its recording ended).
"""

from __future__ import annotations

import base64
import hashlib
import re
import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from uc_pipeline.sandbox.eightbyeight.render import filename
from uc_pipeline.sandbox.model import Call

OBJECT_TYPE = "callcenterrecording"
CREATED_AFTER_END = timedelta(seconds=15)
UPDATED_AFTER_CREATED = timedelta(seconds=51)
_CONDITION = re.compile(r"^([A-Za-z]+)(==|=ge=|=gt=|=le=|=lt=)(.+)$")


class FilterError(ValueError):
    """A `filter` this emulator does not understand (the message says what)."""


@dataclass(frozen=True)
class ObjectFilter:
    """`type==callcenterrecording` and `createdTime` bounds (epoch ms, inclusive or not)."""

    type: str | None
    low: int | None  # createdTime >= low
    high: int | None  # createdTime <= high

    def matches(self, created_ms: int, object_type: str = OBJECT_TYPE) -> bool:
        return (
            (self.type is None or self.type == object_type)
            and (self.low is None or created_ms >= self.low)
            and (self.high is None or created_ms <= self.high)
        )


def parse_filter(text: str | None) -> ObjectFilter:
    """A FIQL AND of conditions (`;`); OR (`,`) and fields other than type/createdTime are refused."""
    kind: str | None = None
    low: int | None = None
    high: int | None = None
    for part in (text or "").split(";"):
        if not part:
            continue
        match = _CONDITION.match(part)
        if match is None or "," in part:
            raise FilterError(f"cannot parse filter condition {part!r}")
        field, op, value = match.groups()
        if field == "type" and op == "==":
            kind = value
        elif field == "createdTime" and op != "==":
            try:
                ms = int(value)
            except ValueError:
                raise FilterError(f"createdTime takes epoch milliseconds, got {value!r}") from None
            if op in ("=ge=", "=gt="):
                bound = ms + (op == "=gt=")
                low = bound if low is None else max(low, bound)
            else:
                bound = ms - (op == "=lt=")
                high = bound if high is None else min(high, bound)
        else:
            raise FilterError(f"filter on {field}{op} is not supported by this emulator")
    return ObjectFilter(kind, low, high)


def _hash(*parts: object) -> bytes:
    return hashlib.sha256(":".join(map(str, parts)).encode()).digest()


def user_id(connection_id: str, agent_id: int) -> str:
    """The agent's 8x8 user id: 22 URL-safe base64 characters, stable per connection and agent."""
    return base64.urlsafe_b64encode(_hash(connection_id, "user", agent_id)).decode()[:22]


def created_time(call: Call) -> datetime:
    assert call.recording is not None
    return call.recording.end_at + CREATED_AFTER_END


def epoch_ms(moment: datetime) -> int:
    return int(moment.timestamp() * 1000)


def _naive(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S")


def _digits(number: str) -> str:
    return number[1:] if number.startswith("+") else number


def render_object(call: Call, connection_id: str, tenant: str) -> dict[str, Any]:
    """The Cloud Storage object of a served call's recording."""
    rec = call.recording
    assert rec is not None
    created = created_time(call)
    call_ref = f"int-{call.call_id:011x}-{base64.urlsafe_b64encode(_hash(connection_id, call.call_id)).decode()[:25]}"
    call_ref += f"-phone-00-{tenant}"
    agent_uid = user_id(connection_id, call.agent.agent_id) if call.agent else ""
    queue = call.queue if call.direction == "INBOUND" and not call.direct_to_agent else None
    ours, theirs = (_digits(call.queue.number) if call.queue else ""), _digits(call.external_number)
    caller, callee = (theirs, ours) if call.direction == "INBOUND" else (ours, theirs)
    tags: Mapping[str, str] = {
        "callId": call_ref,
        "agentId": agent_uid,
        "callerId": caller,
        "calleeId": callee,
        "duration": str(epoch_ms(rec.end_at) - epoch_ms(rec.start_at)),
        "mediaUrl": filename(call).rsplit("/", 1)[-1],
        "tenantId": tenant,
        "agentName": call.agent.name if call.agent else "",
        "direction": "OUTBOUND" if call.direction == "OUTBOUND" else "INBOUND",
        "queueName": queue.name if queue else "",
        "startTime": str(epoch_ms(rec.start_at)),
        "channelName": ours,
        "queueNumber": str(queue.queue_id) if queue else "",
        "holdDuration": "0",
        "transactionId": str(call.call_id),
    }
    seconds = int((rec.end_at - rec.start_at).total_seconds())
    return {
        "id": str(uuid.UUID(bytes=_hash(connection_id, "object", rec.recording_id)[:16], version=4)),
        "type": OBJECT_TYPE,
        "mimeType": "audio/mpeg",
        "objectName": f"{call_ref}.mp3",
        "checksumType": "MD5",
        "checksum": hashlib.md5(_hash(connection_id, "audio", rec.recording_id)).hexdigest(),  # noqa: S324 - a fake checksum
        "customerId": f"0012J0000{_hash(connection_id).hex()[:9].upper()}",
        "userId": agent_uid,
        "storedBytes": 16_000 * max(seconds, 1),
        "createdTime": _naive(created),
        "updatedTime": _naive(created + UPDATED_AFTER_CREATED),
        "objectState": "AVAILABLE",
        "bucketId": str(uuid.UUID(bytes=_hash(connection_id, "bucket")[:16], version=4)),
        "tags": [{"key": key, "value": value} for key, value in tags.items()],
        "shared": False,
    }
