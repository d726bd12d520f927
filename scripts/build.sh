#!/usr/bin/env bash
# Installs what is missing and builds everything: the plugin, the C++ client,
# the CLI and the tests into build/; the TypeScript client and the browser
# chat in clients/ts and clients/web (scripts/web.sh).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/deps.sh "$@"
cmake -S . -B build -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
cmake --build build -j2
bash scripts/web.sh
