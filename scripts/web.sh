#!/usr/bin/env bash
# Builds the TypeScript client (clients/ts, with types generated from
# proto/messaging.proto) and the browser chat (clients/web/dist, which
# scripts/run.sh serves). Installs each package's npm dependencies from its
# committed lockfile (npm ci) when node_modules is missing or older than the
# lockfile. Needs node >= 18, npm and protoc (scripts/deps.sh).
set -euo pipefail
cd "$(dirname "$0")/.."
# No browser download: the tests drive Debian's /usr/bin/chromium.
export PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD=1 PUPPETEER_SKIP_DOWNLOAD=1
for pkg in clients/ts clients/web; do
  stamp="$pkg/node_modules/.package-lock.json"
  if [ ! -f "$stamp" ] || [ "$pkg/package-lock.json" -nt "$stamp" ]; then
    (cd "$pkg" && npm ci --no-audit --no-fund --loglevel=error)
  fi
done
(cd clients/ts && npm run --silent build)
(cd clients/web && npm run --silent build)
