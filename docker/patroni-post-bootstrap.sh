#!/bin/sh
# Patroni's post_bootstrap hook (docker/patroni.yml): runs once, on the node
# that bootstrapped the cluster, as postgres, with a superuser connection
# string as $1. Creates the role and the database the Courier edges use
# (plugin_opt_pg_conninfo ... dbname=courier user=courier); PgStore creates
# its tables itself.
set -eu
: "${COURIER_DB_PASSWORD:?set COURIER_DB_PASSWORD}"
psql -v ON_ERROR_STOP=1 -v pw="$COURIER_DB_PASSWORD" "$1" <<'SQL'
CREATE ROLE courier LOGIN PASSWORD :'pw';
CREATE DATABASE courier OWNER courier;
SQL
