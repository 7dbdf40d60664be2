#!/usr/bin/env bash
# Runs Tessera's whole test suite: formatting, lints, then every Rust test on SQLite and,
# when TESSERA_TEST_DATABASE_URL names a PostgreSQL server, on PostgreSQL too.
#
#   scripts/test.sh                      # SQLite; PostgreSQL halves say they were skipped
#   TESSERA_TEST_DATABASE_URL=postgres://postgres@127.0.0.1:5432/postgres scripts/test.sh
#
# Then the end-to-end suites (tests/e2e/run.sh): openid-client in headless Chromium and
# Authlib against a real `tessera serve`, on SQLite and PostgreSQL.
#
# Under CI=true a skipped PostgreSQL half or end-to-end suite is a failure.
set -euo pipefail
cd "$(dirname "$0")/.."

export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$HOME/.cache/tessera-target}"
export CARGO_TERM_COLOR="${CARGO_TERM_COLOR:-never}"

if [ -z "${TESSERA_TEST_DATABASE_URL:-}" ]; then
  echo "NOTE: TESSERA_TEST_DATABASE_URL is not set: the PostgreSQL half of every storage and HTTP test will be SKIPPED." >&2
  echo "      Set it to a server where tests may create databases, e.g. postgres://postgres@127.0.0.1:5432/postgres" >&2
fi

echo "== formatting"
cargo fmt --all -- --check

echo "== lints"
cargo clippy --workspace --all-targets --locked -- -D warnings

echo "== test peers (GeoIP data, altcha-lib)"
scripts/test-peers.sh

echo "== tests"
if cargo nextest --version >/dev/null 2>&1; then
  cargo nextest run --workspace --locked --no-fail-fast
else
  echo "NOTE: cargo-nextest is not installed; using cargo test" >&2
  cargo test --workspace --locked --no-fail-fast
fi

echo "== end to end"
cargo build --locked -p tessera
if [ -n "${TESSERA_TEST_DATABASE_URL:-}" ]; then backends=both; else backends=sqlite; fi
TESSERA_BIN="$CARGO_TARGET_DIR/debug/tessera" tests/e2e/run.sh "$backends"
