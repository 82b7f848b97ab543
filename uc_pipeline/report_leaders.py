"""Top queues and agents by name over a window of days, from the serving snapshot's `reporting.queue_daily`
and `reporting.agent_daily`: what the demo prints after its KPI tables (and what an analyst asks first:
service level by queue, top agents by handled calls and AHT)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

import duckdb


@dataclass(frozen=True)
class QueueLine:
    provider: str
    name: str
    kind: str
    offered: int | None
    answered: int
    service_level: float | None
    asa_s: float | None


@dataclass(frozen=True)
class AgentLine:
    provider: str
    name: str
    handled: int
    aht_s: float | None


def top_queues(con: duckdb.DuckDBPyConnection, first_day: date, last_day: date, limit: int = 5) -> list[QueueLine]:
    """The queues with the most offered calls in `[first_day, last_day]`, named (their id when unnamed)."""
    rows = con.execute(
        """
        select provider, coalesce(any_value(queue_name), queue_id), coalesce(any_value(queue_kind), 'queue'),
               sum(offered_calls), sum(answered_calls),
               sum(answered_within_threshold_calls) / nullif(sum(offered_calls), 0),
               sum(asa_s * answered_calls) / nullif(sum(answered_calls) filter (where asa_s is not null), 0)
        from reporting.queue_daily
        where day between ? and ?
        group by provider, queue_id
        order by coalesce(sum(offered_calls), sum(answered_calls)) desc, 2
        limit ?
        """,
        [first_day, last_day, limit],
    ).fetchall()
    return [QueueLine(*row) for row in rows]


def top_agents(con: duckdb.DuckDBPyConnection, first_day: date, last_day: date, limit: int = 5) -> list[AgentLine]:
    """The agents with the most handled calls in `[first_day, last_day]`, named (their id when unnamed)."""
    rows = con.execute(
        """
        select provider, coalesce(any_value(user_name), user_id), sum(handled_calls),
               sum(aht_s * handled_calls) / nullif(sum(handled_calls) filter (where aht_s is not null), 0)
        from reporting.agent_daily
        where day between ? and ?
        group by provider, user_id
        having sum(handled_calls) > 0
        order by sum(handled_calls) desc, 2
        limit ?
        """,
        [first_day, last_day, limit],
    ).fetchall()
    return [AgentLine(*row) for row in rows]
