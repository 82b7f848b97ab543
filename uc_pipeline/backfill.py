"""`uc-pipeline backfill --from --to`: a backfill of the daily partitions, submitted to a running Dagster.

It is the UI's "Materialize → partition range" from a terminal: one asset backfill over every
partitioned asset (or those selected), launched through the webserver's GraphQL API, so Dagster's
daemon runs it with the assets' backfill policy (up to 7 days per run), their pools and the run queue.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

import httpx

ASSETS_QUERY = """
query PartitionedAssets {
  assetNodes { assetKey { path } isExecutable isPartitioned }
}
"""
LAUNCH_MUTATION = """
mutation Launch($params: LaunchBackfillParams!) {
  launchPartitionBackfill(backfillParams: $params) {
    __typename
    ... on LaunchBackfillSuccess { backfillId }
    ... on PythonError { message }
    ... on UnauthorizedError { message }
    ... on PartitionSetNotFoundError { message }
    ... on InvalidStepError { invalidStepKey }
    ... on InvalidOutputError { stepKey invalidOutputName }
  }
}
"""
STATUS_QUERY = """
query Backfill($id: String!) {
  partitionBackfillOrError(backfillId: $id) {
    __typename
    ... on PartitionBackfill { status numCancelable runs(limit: 1000) { runId status } }
    ... on PythonError { message }
  }
}
"""
DONE_STATUSES = {"COMPLETED", "COMPLETED_SUCCESS", "COMPLETED_FAILED", "FAILED", "CANCELED"}


class BackfillError(RuntimeError):
    """The backfill could not be submitted or failed; the message says what to do."""


@dataclass(frozen=True)
class BackfillStatus:
    status: str
    runs: dict[str, str]  # run id -> run status


def days_between(first: date, last: date) -> list[str]:
    if last < first:
        raise BackfillError(f"--to {last} is before --from {first}; give the first day, then the last")
    return [(first + timedelta(days=i)).isoformat() for i in range((last - first).days + 1)]


class DagsterGraphQL:
    """The few GraphQL calls a backfill needs, against a running webserver."""

    def __init__(self, url: str, timeout_s: float = 60.0) -> None:
        self.url = url.rstrip("/")
        self._client = httpx.Client(timeout=timeout_s)

    def close(self) -> None:
        self._client.close()

    def query(self, text: str, variables: dict[str, Any] | None = None) -> dict[str, Any]:
        try:
            response = self._client.post(f"{self.url}/graphql", json={"query": text, "variables": variables or {}})
        except httpx.HTTPError as exc:
            raise BackfillError(f"cannot reach the Dagster webserver at {self.url} ({type(exc).__name__}); start "
                                "it (`uc-pipeline dev` or `dg dev`) or pass its address with --url") from None
        if response.status_code != 200:
            raise BackfillError(f"{self.url}/graphql answered HTTP {response.status_code}: {response.text[:300]}")
        body = response.json()
        if body.get("errors"):
            raise BackfillError(f"Dagster refused the request: {body['errors'][0].get('message')}")
        return body["data"]

    def partitioned_assets(self, prefixes: Sequence[str] = ()) -> list[list[str]]:
        """Keys (as paths) of the executable partitioned assets, those starting with one of `prefixes` if given."""
        nodes = self.query(ASSETS_QUERY)["assetNodes"]
        keys = [n["assetKey"]["path"] for n in nodes if n["isExecutable"] and n["isPartitioned"]]
        if prefixes:
            keys = [k for k in keys if any("/".join(k).startswith(p) for p in prefixes)]
        return sorted(keys)

    def launch(self, keys: list[list[str]], partitions: list[str], title: str) -> str:
        params = {"assetSelection": [{"path": k} for k in keys], "partitionNames": partitions, "title": title}
        result = self.query(LAUNCH_MUTATION, {"params": params})["launchPartitionBackfill"]
        if result["__typename"] != "LaunchBackfillSuccess":
            raise BackfillError(f"the backfill was refused ({result['__typename']}): {result.get('message', result)}")
        return str(result["backfillId"])

    def status(self, backfill_id: str) -> BackfillStatus:
        result = self.query(STATUS_QUERY, {"id": backfill_id})["partitionBackfillOrError"]
        if result["__typename"] != "PartitionBackfill":
            raise BackfillError(f"backfill {backfill_id}: {result.get('message', result['__typename'])}")
        return BackfillStatus(result["status"], {r["runId"]: r["status"] for r in result["runs"]})


def submit_backfill(url: str, first: date, last: date, select: Sequence[str] = ()) -> str:
    """Launch the backfill; returns its id."""
    partitions = days_between(first, last)
    client = DagsterGraphQL(url)
    try:
        keys = client.partitioned_assets(select)
        if not keys:
            raise BackfillError(f"no partitioned asset matches {list(select)}; e.g. --select raw/aircall")
        return client.launch(keys, partitions, f"uc-pipeline backfill {first} .. {last}")
    finally:
        client.close()


def wait_for_backfill(url: str, backfill_id: str, timeout_s: float, poll_s: float = 2.0) -> BackfillStatus:
    """Poll until the backfill ends (or `timeout_s` passes: then BackfillError)."""
    client = DagsterGraphQL(url)
    deadline = time.monotonic() + timeout_s
    try:
        while True:
            status = client.status(backfill_id)
            if status.status in DONE_STATUSES:
                return status
            if time.monotonic() > deadline:
                raise BackfillError(f"backfill {backfill_id} still {status.status} after {timeout_s:.0f} s; "
                                    f"follow it at {url}/overview/backfills/{backfill_id}")
            time.sleep(poll_s)
    finally:
        client.close()
