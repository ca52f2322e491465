#!/usr/bin/env bash
# Start a throw-away PostgreSQL on loopback for the test suite and print its URL.
# Installs Debian's postgresql when missing (as root). Used by .ci/run; safe to run by hand.
set -euo pipefail
PORT="${PGPORT_TEST:-55432}"
DIR="${PGDATA_TEST:-/tmp/wfp-pg-test}"
if ! ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1; then
  if [ "$(id -u)" = "0" ]; then
    (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends postgresql) >&2
  else
    echo "postgresql is not installed and we are not root" >&2; exit 1
  fi
fi
BIN="$(ls -d /usr/lib/postgresql/*/bin | sort -V | tail -n1)"
RUNAS=()
if [ "$(id -u)" = "0" ]; then RUNAS=(runuser -u postgres --); fi
if ! "${RUNAS[@]}" "$BIN/pg_ctl" -D "$DIR" status >/dev/null 2>&1; then
  rm -rf "$DIR"; mkdir -p "$DIR"
  [ "$(id -u)" = "0" ] && chown postgres "$DIR"
  "${RUNAS[@]}" "$BIN/initdb" -D "$DIR" -U wfp --auth=trust -E UTF8 >/dev/null
  "${RUNAS[@]}" "$BIN/pg_ctl" -D "$DIR" -o "-p $PORT -k /tmp -c listen_addresses=127.0.0.1" -l "$DIR/log" -w start >/dev/null
  "$BIN/createdb" -h 127.0.0.1 -p "$PORT" -U wfp wfp_test
fi
echo "postgresql+psycopg://wfp@127.0.0.1:$PORT/wfp_test"
