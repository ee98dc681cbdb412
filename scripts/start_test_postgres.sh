#!/usr/bin/env bash
# Start Debian's PostgreSQL on loopback with an empty `fer_test` database for the storage tests,
# installing it first if needed. Prints the SQLAlchemy URL on stdout; everything else goes to stderr.
# Needs root (apt-get, runuser). Used by .ci/run; the tests skip PostgreSQL when this fails.
set -euo pipefail
{
    if ! command -v pg_ctlcluster >/dev/null; then
        apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq postgresql
    fi
    version=$(ls /usr/lib/postgresql | sort -n | tail -1)
    if ! pg_lsclusters -h | grep -q "^$version main"; then
        pg_createcluster "$version" main
    fi
    pg_ctlcluster "$version" main start 2>/dev/null || pg_ctlcluster "$version" main status
    runuser -u postgres -- psql -q -v ON_ERROR_STOP=1 -c \
        "DO \$\$ BEGIN IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = 'fer_test') THEN
         CREATE ROLE fer_test LOGIN PASSWORD 'fer_test'; END IF; END \$\$;"
    runuser -u postgres -- dropdb --if-exists fer_test
    runuser -u postgres -- createdb -O fer_test fer_test
} >&2
echo "postgresql+psycopg://fer_test:fer_test@127.0.0.1:5432/fer_test"
