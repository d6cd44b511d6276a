"""How long the start-up schema check takes with every plugin's branch, and whether it imports Alembic.

    python bench/schema_check.py [--quick] [--repeats N]

Upgrades a fresh SQLite database through every installed branch, then times
``check_schema`` for the core and all installed plugins (what ``kefu run`` does at
start and on reload: read each branch's revision files, read ``alembic_version``).
The baseline, measured in the same run on the same engine, is the raw
``SELECT version_num FROM alembic_version`` the check cannot do without. Run in a
fresh interpreter, it also reports whether the check imported Alembic (it must not:
Alembic is a third of start-up).

Ends with one JSON line: {"bench", "value", "unit", "baseline", "ratio", "params"}.
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from sqlalchemy import text

from kefu.db.branches import installed_branches
from kefu.db.engine import make_engine
from kefu.db.schema import check_schema, upgrade

PROBE = """
import sys
from kefu.db.engine import make_engine
from kefu.db.schema import check_schema
engine = make_engine(sys.argv[1])
check_schema(engine, sys.argv[2:])
print(int("alembic" in sys.modules))
"""


def median_ms(fn: object, repeats: int) -> float:
    """The median wall time of ``fn()`` over ``repeats`` calls, in milliseconds."""
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        fn()  # type: ignore[operator]
        times.append(time.perf_counter() - start)
    return statistics.median(times) * 1000


def main() -> None:
    """Measure and print the JSON line."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="20 repeats instead of 200")
    parser.add_argument("--repeats", type=int, default=None)
    args = parser.parse_args()
    repeats = args.repeats or (20 if args.quick else 200)
    plugins = [b.name for b in installed_branches()[1:]]
    with tempfile.TemporaryDirectory() as tmp:
        url = f"sqlite:///{Path(tmp) / 'kefu.db'}"
        engine = make_engine(url)
        upgrade(engine)

        def raw() -> None:
            with engine.connect() as conn:
                conn.execute(text("SELECT version_num FROM alembic_version")).all()

        raw()
        baseline = median_ms(raw, repeats)
        value = median_ms(lambda: check_schema(engine, plugins), repeats)
        engine.dispose()
        probe = subprocess.run([sys.executable, "-c", PROBE, url, *plugins], capture_output=True, text=True, check=True)
    print(
        json.dumps(
            {
                "bench": "schema_check",
                "value": round(value, 2),
                "unit": "ms",
                "baseline": round(baseline, 3),
                "ratio": round(value / baseline, 1),
                "params": {
                    "branches": ["kefu", *plugins],
                    "repeats": repeats,
                    "imports_alembic": probe.stdout.strip() == "1",
                },
            }
        )
    )


if __name__ == "__main__":
    main()
