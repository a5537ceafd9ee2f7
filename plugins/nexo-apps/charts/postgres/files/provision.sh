#!/bin/sh
# Makes one database and one user per file of $USERS_DIR (the file's name is the user and
# the database, its content the password), idempotently; no user may connect to another's
# database. The official image runs it at the first start (docker-entrypoint-initdb.d);
# lab runs the same SQL on later applies for environments added since.
set -eu
dir="${USERS_DIR:-/etc/nexo-users}"
for f in "$dir"/*; do
  [ -f "$f" ] || continue
  u=$(basename "$f")
  psql -v ON_ERROR_STOP=1 -X -q --username "${POSTGRES_USER:-postgres}" --dbname postgres <<SQL
\set u '$u'
\set p \`cat '$f'\`
SELECT format('CREATE ROLE %I LOGIN', :'u') WHERE NOT EXISTS (SELECT FROM pg_roles WHERE rolname = :'u')\gexec
SELECT format('ALTER ROLE %I WITH LOGIN PASSWORD %L', :'u', :'p')\gexec
SELECT format('CREATE DATABASE %I OWNER %I', :'u', :'u') WHERE NOT EXISTS (SELECT FROM pg_database WHERE datname = :'u')\gexec
SELECT format('REVOKE ALL ON DATABASE %I FROM PUBLIC', :'u')\gexec
SELECT format('GRANT ALL ON DATABASE %I TO %I', :'u', :'u')\gexec
SQL
done
