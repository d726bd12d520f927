#!/usr/bin/env bash
# Installs what is missing, builds, and runs Mosquitto in the foreground with
# the Courier plugin and mosquitto.conf.example: MQTT on
# 127.0.0.1:${COURIER_PORT:-1883}, MQTT over WebSockets and the browser chat
# (clients/web/dist) on 127.0.0.1:${COURIER_WS_PORT:-9001}. Without those
# variables each port moves up to the next free one. Data goes to
# build/run/data. Stop it with Ctrl-C.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/build.sh

taken() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }
port="${COURIER_PORT:-1883}"
if [ -z "${COURIER_PORT:-}" ]; then
  # Debian's mosquitto package may already run a broker on 1883.
  while taken "$port" && [ "$port" -lt 1899 ]; do port=$((port + 1)); done
fi
if taken "$port"; then
  echo "port $port is taken; run again with COURIER_PORT=<free port>" >&2
  exit 1
fi
ws_port="${COURIER_WS_PORT:-9001}"
if [ -z "${COURIER_WS_PORT:-}" ]; then
  while { taken "$ws_port" || [ "$ws_port" = "$port" ]; } && [ "$ws_port" -lt 9017 ]; do ws_port=$((ws_port + 1)); done
fi
if taken "$ws_port"; then
  echo "port $ws_port is taken; run again with COURIER_WS_PORT=<free port>" >&2
  exit 1
fi
run="$PWD/build/run"
mkdir -p "$run/data"
conf="$run/mosquitto.conf"
sed -e "s|^plugin .*|plugin $PWD/build/plugin/mosquitto_courier.so|" \
    -e "s|^plugin_opt_db_path .*|plugin_opt_db_path $run/data|" \
    -e "s|^listener 1883 |listener $port |" \
    -e "s|^listener 9001 |listener $ws_port |" \
    -e "s|^#http_dir .*|http_dir $PWD/clients/web/dist|" \
    mosquitto.conf.example > "$conf"
if [ "$(id -u)" -eq 0 ]; then
  # As root, mosquitto would switch to the mosquitto user, which cannot read
  # a build tree under /root. This development run stays root.
  echo "user root" >> "$conf"
fi
echo "courier: starting mosquitto on 127.0.0.1:$port with $conf (Ctrl-C stops it)"
echo "courier: chat in a browser at http://127.0.0.1:$ws_port/ (MQTT over WebSockets: ws://127.0.0.1:$ws_port)"
exec "$(command -v mosquitto || echo /usr/sbin/mosquitto)" -c "$conf"
