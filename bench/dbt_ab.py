"""A/B of two checkouts' dbt builds on one machine: `bench/dbt.py`'s full build and daily build of a new
day, and nothing else, alternated A B B A A B ... so that a slow phase of a shared machine falls on both.

Each checkout builds on its own copy of a landing zone that `bench/dbt.py --keep` generated (hard links
are enough: a build only moves the held-back day's folders and writes its own warehouse). Per round and
checkout: an empty warehouse, `dbt parse`, then timed: `dbt build` over every day but the last (held
back), and, with that day landed, the daily build Dagster runs for it (`--select tag:partitioned
--exclude-resource-type unit_test`, the window in UC_START_DATE/UC_END_DATE). Prints each run's wall and
CPU time, then per figure the two medians, their ratio, the ratio of the sums and of the minima.

    python bench/dbt.py --calls 1000000 --days 30 --per-day 2000 --data-dir /tmp/zone --keep
    cp -al /tmp/zone /tmp/zone_a && cp -al /tmp/zone /tmp/zone_b
    python bench/dbt_ab.py --a /path/to/old-checkout --a-zone /tmp/zone_a --b . --b-zone /tmp/zone_b \
        --days 30 --rounds 10 --b-env UC_PROVIDERS=aircall,ringcentral,eightbyeight,zendesk

The checkouts run with this interpreter's dbt, through the program each one's Dagster runs dbt as
(`dbt_run.dbt_program`); each one's own `uc_pipeline` comes first on PYTHONPATH.
"""

from __future__ import annotations

import argparse
import json
import shutil
import statistics
from datetime import timedelta
from pathlib import Path

from dbt_landing import FIRST_DAY, hold_back, land_held
from dbt_run import DAILY, timed_dbt

FIGURES = ("full", "daily", "full_cpu", "daily_cpu")


def one_round(checkout: Path, zone: Path, days: int, extra_env: dict[str, str]) -> dict[str, float]:
    last_day = FIRST_DAY + timedelta(days=days)
    project, target = checkout / "dbt_project", zone / "dbt_target"
    env = {"PYTHONPATH": str(checkout), **extra_env}  # the checkout's own uc_pipeline (profile plugin, settings)
    (zone / "warehouse.duckdb").unlink(missing_ok=True)
    shutil.rmtree(target, ignore_errors=True)
    held = hold_back(zone, last_day)
    try:
        timed_dbt(project, ["parse"], zone, target, extra_env=env)
        full, full_cpu = timed_dbt(project, ["build"], zone, target, extra_env=env)
    finally:
        land_held(held)
    day = last_day.isoformat()
    daily, daily_cpu = timed_dbt(project, DAILY, zone, target, (day, day), env)
    return {"full": full, "daily": daily, "full_cpu": full_cpu, "daily_cpu": daily_cpu}


def env_pairs(pairs: list[str]) -> dict[str, str]:
    return dict(pair.split("=", 1) for pair in pairs)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--a", type=Path, required=True, help="checkout A (e.g. `git archive <commit>` unpacked)")
    parser.add_argument("--a-zone", type=Path, required=True, help="A's copy of the landing zone")
    parser.add_argument("--b", type=Path, required=True, help="checkout B")
    parser.add_argument("--b-zone", type=Path, required=True, help="B's copy of the landing zone")
    parser.add_argument("--a-env", nargs="*", default=[], help="NAME=VALUE set for A's dbt runs")
    parser.add_argument("--b-env", nargs="*", default=[], help="NAME=VALUE set for B's dbt runs")
    parser.add_argument("--days", type=int, default=30, help="days of history the zone was generated with")
    parser.add_argument("--rounds", type=int, default=6)
    parser.add_argument("--json", type=Path, help="write every run's figures here")
    args = parser.parse_args()
    sides = {"A": (args.a.resolve(), args.a_zone.resolve(), env_pairs(args.a_env)),
             "B": (args.b.resolve(), args.b_zone.resolve(), env_pairs(args.b_env))}
    runs: dict[str, dict[str, list[float]]] = {side: {f: [] for f in FIGURES} for side in sides}
    for number in range(args.rounds):
        for side in ("A", "B") if number % 2 == 0 else ("B", "A"):
            figures = one_round(*sides[side][:2], args.days, sides[side][2])
            for name, value in figures.items():
                runs[side][name].append(round(value, 2))
            print(f"round {number + 1} {side}: full {figures['full']:.1f}s (CPU {figures['full_cpu']:.1f}s), "
                  f"daily {figures['daily']:.1f}s (CPU {figures['daily_cpu']:.1f}s)", flush=True)
    for name in FIGURES:
        a, b = runs["A"][name], runs["B"][name]
        print(f"{name}: A {a} B {b}; median {statistics.median(a):.2f} vs {statistics.median(b):.2f} s = "
              f"{statistics.median(b) / statistics.median(a):.3f}x B/A, sums {sum(b) / sum(a):.3f}x, "
              f"minima {min(b) / min(a):.3f}x")
    if args.json:
        args.json.write_text(json.dumps(runs, indent=1))


if __name__ == "__main__":
    main()
