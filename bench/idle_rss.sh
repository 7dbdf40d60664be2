#!/usr/bin/env bash
# Starts `tessera serve` (release build, fresh SQLite database), waits until it is ready,
# lets it idle, and prints its resident memory (VmRSS) before and after a burst of admin
# requests.
set -euo pipefail
cd "$(dirname "$0")/.."
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$HOME/.cache/tessera-target}"
cargo build --release --locked -q -p tessera
binary="$CARGO_TARGET_DIR/release/tessera"
work=$(mktemp -d)
token="bench-bootstrap-token-0123456789abcdef0123"
port=$((20000 + RANDOM % 20000))
(cd "$work" && TESSERA_ADMIN_TOKEN=$token RUST_LOG=warn exec "$binary" serve --listen "127.0.0.1:$port") &
pid=$!
trap 'kill $pid 2>/dev/null; rm -rf "$work"' EXIT
for _ in $(seq 1 100); do curl -sf "http://127.0.0.1:$port/readyz" >/dev/null && break; sleep 0.1; done
sleep 2
idle=$(awk '/VmRSS/ {print $2}' /proc/$pid/status)
for i in $(seq 1 500); do
  curl -sf -o /dev/null -H "authorization: Bearer $token" -H 'content-type: application/json' \
    -d "{\"email\": \"user$i@example.com\", \"given_name\": \"User $i\"}" "http://127.0.0.1:$port/admin/v1/users"
done
for i in $(seq 1 500); do curl -sf -o /dev/null -H "authorization: Bearer $token" "http://127.0.0.1:$port/admin/v1/users?limit=50"; done
sleep 1
busy=$(awk '/VmRSS/ {print $2}' /proc/$pid/status)
printf 'idle RSS: %.1f MiB; after 500 creates and 500 list requests: %.1f MiB\n' "$(echo "$idle/1024" | bc -l)" "$(echo "$busy/1024" | bc -l)"
