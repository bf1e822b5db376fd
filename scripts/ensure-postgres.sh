#!/usr/bin/env bash
# Makes sure a PostgreSQL server answers on 127.0.0.1:5432 with user postgres (trust auth) and a
# database named `test`, as the test suite expects. Starts an installed cluster that is stopped;
# installs PostgreSQL with apt-get when it is missing. Exits non-zero when it cannot.
set -euo pipefail

HOST=127.0.0.1
PORT=5432

ready() { pg_isready -q -h "$HOST" -p "$PORT" 2>/dev/null; }
as_root() { if [ "$(id -u)" = 0 ]; then "$@"; else sudo -n "$@"; fi; }

if ! command -v pg_ctlcluster >/dev/null 2>&1 && ! command -v pg_isready >/dev/null 2>&1; then
    echo "ensure-postgres: PostgreSQL is not installed; installing it with apt-get" >&2
    as_root apt-get update -qq
    as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq postgresql >/dev/null
fi

if ! ready; then
    echo "ensure-postgres: starting PostgreSQL" >&2
    for version in $(ls /etc/postgresql 2>/dev/null); do
        for cluster in $(ls "/etc/postgresql/$version"); do
            as_root pg_ctlcluster --skip-systemctl-redirect "$version" "$cluster" start || true
        done
    done
    for _ in $(seq 1 30); do ready && break; sleep 1; done
fi
ready || { echo "ensure-postgres: PostgreSQL does not answer on $HOST:$PORT" >&2; exit 1; }

psql_admin() { psql -h "$HOST" -p "$PORT" -U postgres -d postgres -tAc "$1" 2>/dev/null \
    || as_root su postgres -c "psql -tAc \"$1\""; }

# Trust auth for local TCP is how this machine is set up; a fresh apt install uses peer/md5 instead.
if ! psql -h "$HOST" -p "$PORT" -U postgres -d postgres -tAc 'select 1' >/dev/null 2>&1; then
    echo "ensure-postgres: enabling trust auth for loopback" >&2
    hba=$(as_root su postgres -c "psql -tAc 'show hba_file'")
    as_root sed -i -E 's/^(host\s+all\s+all\s+127\.0\.0\.1\/32\s+)\S+/\1trust/; s/^(host\s+all\s+all\s+::1\/128\s+)\S+/\1trust/' "$hba"
    as_root su postgres -c "psql -tAc 'select pg_reload_conf()'" >/dev/null
fi

if [ "$(psql_admin "select 1 from pg_database where datname='test'")" != "1" ]; then
    psql_admin "create database test" >/dev/null
fi
echo "ensure-postgres: PostgreSQL is up on $HOST:$PORT (database test)" >&2
