#!/bin/bash
# The system user bootsvc's network-facing process runs as (docs/security.md "Privilege
# separation"): no login, no home, its own group. Idempotent: nothing happens when it exists.
# Usage: mk/add-user.sh [NAME]   (default diskless, bootsvc's default user=)
set -euo pipefail
name=${1:-diskless}
if getent passwd "$name" >/dev/null; then
  exit 0
fi
if command -v adduser >/dev/null; then
  adduser --system --group --no-create-home --home /nonexistent --quiet "$name"
else
  useradd --system --user-group --no-create-home --home-dir /nonexistent \
      --shell /usr/sbin/nologin "$name"
fi
echo "created system user $name"
