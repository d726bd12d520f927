#!/bin/sh
# Entrypoint of the Courier image: prepares the data directory and runs
# mosquitto (exec, so it is PID 1 and gets the container's signals) with the
# Courier plugin.
#
# The image's paths are the defaults; every one can be overridden, which is
# also how tests/client/docker_test.cc runs this script outside a container:
#   COURIER_CONFIG         mosquitto.conf to start from   (/etc/courier/mosquitto.conf)
#   COURIER_DATA_DIR       the data volume                (/var/lib/courier)
#   COURIER_PLUGIN         the plugin's shared object     (path in COURIER_CONFIG)
#   COURIER_PORT           listener port                  (port in COURIER_CONFIG)
#   COURIER_BIND           listener address               (all addresses)
#   COURIER_PASSWORD_FILE  mosquitto_passwd file: no anonymous logins
#   COURIER_ADMIN_USERS    users allowed to use the $CONTROL admin API
#                          (written as plugin_opt_admin_users)
#   COURIER_RUN_DIR        where the effective config is written  (/tmp)
#   COURIER_MOSQUITTO_USER started as root: the user to run as   (mosquitto)
#   MOSQUITTO              the broker binary        (mosquitto on PATH, else /usr/sbin/mosquitto)
# Arguments, if any, are run instead of mosquitto (e.g. `courier inspect ...`).
set -eu

if [ "$#" -gt 0 ]; then
  exec "$@"
fi

config="${COURIER_CONFIG:-/etc/courier/mosquitto.conf}"
data="${COURIER_DATA_DIR:-/var/lib/courier}"
run_dir="${COURIER_RUN_DIR:-/tmp}"
mosquitto_bin="${MOSQUITTO:-$(command -v mosquitto || echo /usr/sbin/mosquitto)}"

die() { echo "courier-entrypoint: $*" >&2; exit 1; }

[ -r "$config" ] || die "cannot read $config"

# The data directory (normally a volume) must exist and be writable by the
# user mosquitto runs as; the plugin creates db/ inside it.
if [ "$(id -u)" -eq 0 ]; then
  run_as="${COURIER_MOSQUITTO_USER:-mosquitto}"
  mkdir -p "$data"
  if [ "$run_as" != root ]; then
    chown -R "$run_as" "$data" || die "cannot give $data to $run_as"
  fi
else
  run_as=""
  mkdir -p "$data" 2>/dev/null || true
  [ -d "$data" ] || die "$data does not exist and cannot be created"
  [ -w "$data" ] || die "$data is not writable by uid $(id -u): fix the volume's owner"
fi

# The effective configuration: the given one with the overrides applied.
mkdir -p "$run_dir"
effective="$run_dir/courier-mosquitto.conf"
script="$effective.sed"
{
  printf '%s\n' "s|^plugin_opt_db_path .*|plugin_opt_db_path $data/db|"
  if [ -n "${COURIER_PLUGIN:-}" ]; then
    printf '%s\n' "s|^plugin .*|plugin $COURIER_PLUGIN|"
  fi
  if [ -n "${COURIER_PORT:-}" ]; then
    printf '%s\n' "s|^listener [0-9][0-9]*|listener $COURIER_PORT|"
  fi
  if [ -n "${COURIER_BIND:-}" ]; then
    printf '%s\n' "s|^listener \([0-9][0-9]*\).*|listener \1 $COURIER_BIND|"
  fi
  if [ -n "${COURIER_PASSWORD_FILE:-}" ]; then
    printf '%s\n' "s|^allow_anonymous .*|allow_anonymous false|"
  fi
} > "$script"
{
  sed -f "$script" "$config"
  printf '\n'
  printf '%s\n' "# added by the entrypoint"
  if [ -n "${COURIER_PASSWORD_FILE:-}" ]; then
    [ -r "$COURIER_PASSWORD_FILE" ] || die "cannot read $COURIER_PASSWORD_FILE"
    printf '%s\n' "password_file $COURIER_PASSWORD_FILE"
  fi
  if [ -n "${COURIER_ADMIN_USERS:-}" ]; then
    printf '%s\n' "plugin_opt_admin_users $COURIER_ADMIN_USERS"
  fi
  if [ -n "$run_as" ]; then
    printf '%s\n' "user $run_as"
  fi
} > "$effective.tmp"
rm -f "$script"
mv "$effective.tmp" "$effective"

plugin="$(sed -n 's/^plugin \(.*\)/\1/p' "$effective" | head -n 1)"
[ -r "$plugin" ] || die "cannot read the plugin $plugin"

echo "courier-entrypoint: starting $mosquitto_bin with $effective (data in $data)" >&2
exec "$mosquitto_bin" -c "$effective"
