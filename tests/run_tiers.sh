#!/usr/bin/env bash
# `make test`'s two runs of pytest, side by side (tests/conftest.py names the tiers):
#
# - unit and integration on TEST_WORKERS pytest-xdist workers: they keep the CPU busy;
# - the system tier (whole processes, the browser) on SYSTEM_WORKERS workers, the longest
#   started first (worksteal): its tests mostly wait (on processes, faults, retries), so
#   they run in the other run's gaps instead of after it.
#
# Each run keeps apart: the system tier takes the Redis databases below the fast tier's
# (TEST_REDIS_URL's number minus TEST_WORKERS, counted down per worker) and adds `_sys` to
# TEST_DB_SUFFIX. Its output is kept and printed when the fast tier is done, so the two do
# not interleave. The exit code is the first failing run's. Arguments go to both runs.
set -uo pipefail
python=${PYTHON_BIN:-.venv/bin/python}
fast_workers=${TEST_WORKERS:-2}
system_workers=${SYSTEM_WORKERS:-4}
base=${TEST_REDIS_URL:-redis://127.0.0.1:6379/15}
db=${base##*/}
system_db=$((db - fast_workers))
if (( system_db - system_workers + 1 < 0 )); then
    echo "TEST_REDIS_URL $base leaves no Redis databases for the system tier's" \
        "$system_workers workers below the fast tier's $fast_workers" >&2
    exit 2
fi

log=$(mktemp)
TEST_DB_SUFFIX="${TEST_DB_SUFFIX:-}_sys" TEST_REDIS_URL="${base%/*}/$system_db" \
    "$python" -m pytest -m system -n "$system_workers" --dist worksteal --durations=10 "$@" \
    >"$log" 2>&1 &
system=$!
trap 'kill "$system" 2>/dev/null; rm -f "$log"' EXIT

"$python" -m pytest -m "unit or integration" -n "$fast_workers" --durations=10 "$@"
fast=$?
echo
echo "=== the system tier (it ran alongside) ==="
wait "$system"
slow=$?
cat "$log"
exit $(( fast != 0 ? fast : slow ))
