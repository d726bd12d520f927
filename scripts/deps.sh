#!/usr/bin/env bash
# Installs every Debian package Courier needs to build, test and run.
# Idempotent: skips apt entirely when everything is already there.
set -euo pipefail

PACKAGES=(
  build-essential cmake pkg-config git
  mosquitto mosquitto-dev libmosquitto-dev mosquitto-clients
  libprotobuf-dev protobuf-compiler
  liblmdb-dev lmdb-utils
  # the PostgreSQL engine (storage/postgres) links libpq
  libpq-dev
  libfmt-dev
  nlohmann-json3-dev
  # push notifications: HTTP calls to the app's gateway (libcurl) and the
  # HMAC-SHA256 signature header (OpenSSL's libcrypto)
  libcurl4-openssl-dev libssl-dev
  libgtest-dev
  # fuzzing and sanitizers (scripts/test.sh, docs/security.md): clang++,
  # libFuzzer and clang's sanitizer runtimes (libclang-rt-14-dev), and
  # llvm-symbolizer (llvm-14) for symbolized reports. GCC's own libasan and
  # libubsan come with build-essential.
  clang libclang-rt-14-dev llvm-14
)

# With `--test`: what only the tests need. Debian's chromium drives the
# browser chat's test (clients/web) headless.
# clang-format and pmccabe check the code's format and sizes
# (scripts/check_format.sh, scripts/check_sizes.sh).
# postgresql-15: the servers the PostgreSQL store's tests start (as the
# postgres user the package creates).
# patroni and etcd-server: the high-availability test (docs/ha.md).
if [ "${1:-}" = "--test" ]; then
  PACKAGES+=(chromium clang-format pmccabe postgresql-15 patroni etcd-server)
fi

missing=()
for p in "${PACKAGES[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
# The TypeScript client and the browser chat: Node.js >= 18 and npm. A node
# that is already installed (Debian's, or another vendor's package that
# bundles npm) is used as it is; Debian's npm would conflict with the latter.
command -v node >/dev/null || missing+=(nodejs)
command -v npm >/dev/null || missing+=(npm)
if [ ${#missing[@]} -eq 0 ]; then
  exit 0
fi

SUDO=""
if [ "$(id -u)" -ne 0 ]; then SUDO="sudo"; fi
echo "installing: ${missing[*]}"
$SUDO env DEBIAN_FRONTEND=noninteractive apt-get update -qq
$SUDO env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}"
