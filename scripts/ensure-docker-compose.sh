#!/usr/bin/env bash
# Makes sure `docker-compose` (Debian's package) is on PATH so that the test suite can validate
# docker-compose.yml with docker-compose's own `config` check. No Docker engine is needed or
# started: validation only parses the file. Installs the package with apt-get when it is missing;
# exits non-zero when it cannot (CI must not silently skip the check).
set -euo pipefail

as_root() { if [ "$(id -u)" = 0 ]; then "$@"; else sudo -n "$@"; fi; }

if ! command -v docker-compose >/dev/null 2>&1; then
    echo "ensure-docker-compose: installing Debian's docker-compose with apt-get" >&2
    as_root apt-get update -qq
    as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends docker-compose >/dev/null
fi
docker-compose version >/dev/null
