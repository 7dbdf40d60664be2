#!/usr/bin/env bash
# Seeds users (default 1,000,000) with five custom attributes each into SQLite and into
# PostgreSQL through the store, in batches of 10,000 (TESSERA_BENCH_BATCH), then measures
# get-by-id, get-by-email and admin searches by attribute value in-process. Prints one Markdown row per backend;
# the README explains the columns and keeps the latest figures.
#
#   bench/store.sh [USERS] [POSTGRES_SERVER_URL]
set -euo pipefail
cd "$(dirname "$0")/.."
users="${1:-1000000}"
server="${2:-${TESSERA_TEST_DATABASE_URL:-postgres://postgres@127.0.0.1:5432/postgres}}"
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$HOME/.cache/tessera-target}"

cargo build --release --locked -q -p tessera-store --example seed_and_lookup
binary="$CARGO_TARGET_DIR/release/examples/seed_and_lookup"
echo "machine: $(nproc) cores, $(awk '/MemTotal/ {printf "%.0f GiB", $2/1048576}' /proc/meminfo); $(date -u +%Y-%m-%d)"
"$binary" sqlite "$users"
if pg_isready -q -d "$server" 2>/dev/null; then
  "$binary" postgres "$users" "$server" | tail -n 1
else
  echo "PostgreSQL at $server is not reachable: skipped" >&2
fi
