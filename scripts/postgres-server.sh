#!/usr/bin/env bash
# Start a throwaway PostgreSQL server for tests and benchmarks, installing Debian's package if
# the machine has none. Prints the connection URL on its last line.
#   scripts/postgres-server.sh start [DIR] [PORT]   (defaults: /tmp/tandem-pg, 54329)
#   scripts/postgres-server.sh stop  [DIR]
set -euo pipefail
action=${1:-start}
dir=${2:-/tmp/tandem-pg}
port=${3:-54329}

find_bin() {
  if command -v pg_ctl >/dev/null 2>&1 && command -v initdb >/dev/null 2>&1; then
    dirname "$(readlink -f "$(command -v pg_ctl)")"
    return
  fi
  local found
  found=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1 || true)
  [ -n "$found" ] && echo "$found"
}

bin=$(find_bin || true)
if [ -z "$bin" ]; then
  echo "Installing PostgreSQL from Debian's packages..." >&2
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq >&2
  apt-get install -y -qq postgresql >&2
  bin=$(find_bin)
fi

# The server refuses to run as root; run it as the postgres user when we are root.
as_pg() {
  if [ "$(id -u)" = "0" ]; then
    id postgres >/dev/null 2>&1 || useradd --system --no-create-home postgres
    runuser -u postgres -- "$@"
  else
    "$@"
  fi
}

case "$action" in
  start)
    if [ ! -f "$dir/PG_VERSION" ]; then
      mkdir -p "$dir"
      [ "$(id -u)" = "0" ] && chown postgres "$dir"
      as_pg "$bin/initdb" -D "$dir" -U tandem --auth=trust -E UTF8 --locale=C.UTF-8 >/dev/null
    fi
    if ! as_pg "$bin/pg_ctl" -D "$dir" status >/dev/null 2>&1; then
      as_pg "$bin/pg_ctl" -D "$dir" -l "$dir/server.log" -w \
        -o "-p $port -k /tmp -c listen_addresses=127.0.0.1 -c max_connections=200 -c fsync=on" start >/dev/null
    fi
    "$bin/psql" -h 127.0.0.1 -p "$port" -U tandem -d postgres -tAc "SELECT 1 FROM pg_database WHERE datname = 'tandem_test'" | grep -q 1 ||
      "$bin/psql" -h 127.0.0.1 -p "$port" -U tandem -d postgres -qc "CREATE DATABASE tandem_test" >/dev/null
    echo "postgres://tandem@127.0.0.1:$port/tandem_test"
    ;;
  stop)
    as_pg "$bin/pg_ctl" -D "$dir" -m fast stop >/dev/null 2>&1 || true
    ;;
  *)
    echo "usage: $0 start|stop [DIR] [PORT]" >&2
    exit 2
    ;;
esac
