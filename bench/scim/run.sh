#!/usr/bin/env bash
# SCIM load at a large user base (issue #3): seeds USERS users (default 1,000,000) into a fresh
# database through Tessera's own services (bench/scim/seed), starts `tessera serve` (release)
# on it, pinned to one core (SERVER_CPU), and measures with bench/scim/loadgen on another core
# (LOAD_CPU): single SCIM creations, Bulk requests of 1,000 creations, `userName eq` and
# `emails co` filters, and PATCH. Prints the machine, the seeding time and one Markdown table
# with the issue's targets; bench/README.md ("SCIM") explains the figures and keeps the latest.
#
#   bench/scim/run.sh                                   # SQLite, 1,000,000 users
#   BACKEND=postgres bench/scim/run.sh                  # a fresh PostgreSQL database
#   USERS=20000 DURATION=5 bench/scim/run.sh            # a quick check
#
# Environment (all optional):
#   BACKEND          sqlite (default) | postgres
#   USERS            users seeded before the measurements (default 1000000)
#   PG_URL           a PostgreSQL server where a database may be created; default
#                    $TESSERA_TEST_DATABASE_URL, else postgres://postgres@127.0.0.1:5432/postgres
#                    (…/postgres?host=/var/run/postgresql: its Unix socket)
#   WARMUP           seconds of load before each measurement, not counted (default 2)
#   DURATION         seconds each scenario is measured (default 10)
#   BULK_DURATION    seconds each Bulk scenario is measured (default 20: a Bulk request takes
#                    long, and its p99 needs samples)
#   CONCURRENCY      connections of the create, filter and PATCH scenarios (default 8)
#   BULK_CONCURRENCY connections of the Bulk scenarios, one run each (default "1 2")
#   BULK_OPERATIONS  creations per Bulk request (default 1000, the server's maximum)
#   CONTAINS_COUNT   `count` of the `emails co` lists (default 100)
#   CONTAINS_CONCURRENCY, CONTAINS_DURATION   connections and seconds of the `emails co`
#                    scenario (default 1 and 60): the substring search reads every address, so
#                    it is measured as one administrator's search, without queueing, and long
#                    enough for a p99 (a slow build then does not queue into the request timeout)
#   SERVER_CPU, LOAD_CPU   cores of the server and of the load generator (default 0 and 1;
#                    without taskset nothing is pinned)
#   NICE             niceness of the server and the load generator (default -10 as root,
#                    else 0): other work on the machine then disturbs the figures less
#   TESSERA_BIN      a built tessera binary; without it: cargo build --release --locked
#   REVISION         what to call the code measured (default: the checkout's short commit)
#   KEEP=1           keep the work directory (server log, seeded users) and print its path
set -euo pipefail

BENCH_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
REPO_DIR="$(cd "$BENCH_DIR/../.." && pwd)"
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$HOME/.cache/tessera-target}"

BACKEND="${BACKEND:-sqlite}"
USERS="${USERS:-1000000}"
PG_URL="${PG_URL:-${TESSERA_TEST_DATABASE_URL:-postgres://postgres@127.0.0.1:5432/postgres}}"
WARMUP="${WARMUP:-2}"
DURATION="${DURATION:-10}"
BULK_DURATION="${BULK_DURATION:-20}"
CONCURRENCY="${CONCURRENCY:-8}"
read -r -a BULK_CONNECTIONS <<<"${BULK_CONCURRENCY:-1 2}"
BULK_OPERATIONS="${BULK_OPERATIONS:-1000}"
CONTAINS_COUNT="${CONTAINS_COUNT:-100}"
CONTAINS_CONCURRENCY="${CONTAINS_CONCURRENCY:-1}"
CONTAINS_DURATION="${CONTAINS_DURATION:-60}"
SERVER_CPU="${SERVER_CPU:-0}"
LOAD_CPU="${LOAD_CPU:-1}"
if [ -z "${NICE:-}" ]; then
  if [ "$(id -u)" = 0 ]; then NICE=-10; else NICE=0; fi
fi
if command -v taskset >/dev/null; then
  ON_SERVER_CPU=(nice -n "$NICE" taskset -c "$SERVER_CPU")
  ON_LOAD_CPU=(nice -n "$NICE" taskset -c "$LOAD_CPU")
  PINNED="server on core $SERVER_CPU, load generator on core $LOAD_CPU"
else
  ON_SERVER_CPU=(nice -n "$NICE")
  ON_LOAD_CPU=(nice -n "$NICE")
  PINNED="not pinned (no taskset)"
fi
ADMIN_TOKEN="bench-admin-token-$(head -c 16 /dev/urandom | od -An -tx1 | tr -d ' \n')"
RUN_TAG="$(head -c 4 /dev/urandom | od -An -tx1 | tr -d ' \n')"

log() { printf '== %s\n' "$*" >&2; }
die() {
  printf 'ERROR: %s\n' "$*" >&2
  exit 1
}
case "$BACKEND" in sqlite | postgres) ;; *) die "BACKEND must be sqlite or postgres" ;; esac
[[ "$USERS" =~ ^[0-9]+$ ]] && [ "$USERS" -ge 100 ] || die "USERS must be a number of at least 100"
[ "${#BULK_CONNECTIONS[@]}" -gt 0 ] || die "BULK_CONCURRENCY is empty"
for tool in curl jq python3; do command -v "$tool" >/dev/null || die "missing: $tool"; done
if [ "$BACKEND" = postgres ]; then
  command -v psql >/dev/null || die "BACKEND=postgres needs psql"
  pg_isready -q -d "$PG_URL" || die "PostgreSQL at $PG_URL is not reachable"
fi

# ---------------------------------------------------------------------------------------------
# Builds

log "building (release)"
if [ -n "${TESSERA_BIN:-}" ]; then
  TESSERA="$TESSERA_BIN"
else
  (cd "$REPO_DIR" && cargo build --release --locked -q -p tessera)
  TESSERA="$CARGO_TARGET_DIR/release/tessera"
fi
cargo build --release --locked -q --manifest-path "$BENCH_DIR/seed/Cargo.toml"
cargo build --release --locked -q --manifest-path "$BENCH_DIR/loadgen/Cargo.toml"
SEED="$CARGO_TARGET_DIR/release/scim-seed"
LOADGEN="$CARGO_TARGET_DIR/release/scim-loadgen"

# ---------------------------------------------------------------------------------------------
# The database and the server

WORK="$(mktemp -d /tmp/tessera-bench-scim.XXXXXX)"
server_pid=""
database=""
cleanup() {
  if [ -n "$server_pid" ]; then
    kill "$server_pid" 2>/dev/null || true
    wait "$server_pid" 2>/dev/null || true
  fi
  if [ -n "$database" ]; then
    psql -q -d "$PG_URL" -c "DROP DATABASE IF EXISTS $database" >/dev/null 2>&1 || true
  fi
  if [ "${KEEP:-}" = 1 ]; then log "kept $WORK"; else rm -rf "$WORK"; fi
}
trap cleanup EXIT

free_port() { python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'; }

mkdir -p "$WORK/data"
settings=("TESSERA_DATA_DIR=$WORK/data")
if [ "$BACKEND" = postgres ]; then
  database="tessera_bench_scim_$RUN_TAG"
  psql -q -d "$PG_URL" -c "CREATE DATABASE $database" >/dev/null
  # The server's URL with the database replaced; a query string (?host=/var/run/postgresql
  # for the Unix socket, say) is kept.
  base="${PG_URL%%\?*}"
  DATABASE_URL="${base%/*}/$database${PG_URL#"$base"}"
  settings+=("TESSERA_DATABASE_URL=$DATABASE_URL")
else
  # Where `tessera serve` keeps its database when TESSERA_DATABASE_URL is not set.
  DATABASE_URL="sqlite://$WORK/data/tessera.db"
fi

cpu_model=$(awk -F': ' '/model name/ {print $2; exit}' /proc/cpuinfo)
echo "machine: $(nproc) cores ($cpu_model), $(awk '/MemTotal/ {printf "%.0f GiB", $2/1048576}' /proc/meminfo), $(uname -sr); $(date -u '+%Y-%m-%d %H:%M UTC')"
if [ -z "${REVISION:-}" ]; then
  REVISION="$(git -C "$REPO_DIR" rev-parse --short HEAD 2>/dev/null || echo '?')"
  changed=$(git -C "$REPO_DIR" status --porcelain --untracked-files=no 2>/dev/null | grep -c . || true)
  [ "${changed:-0}" = 0 ] || REVISION="$REVISION with $changed files changed"
fi
echo "software: tessera $REVISION, $BACKEND$([ "$BACKEND" = sqlite ] || echo " ($(psql -tA -d "$PG_URL" -c 'SHOW server_version' 2>/dev/null))")"
echo "load average before seeding: $(cut -d' ' -f1-3 /proc/loadavg)"

log "seeding $USERS users ($BACKEND)"
seed_started=$(date +%s.%N)
seed_line=$("$SEED" --database-url "$DATABASE_URL" --users "$USERS" --out "$WORK/users.tsv" | grep '^SEED') ||
  die "seeding failed"
if [ "$BACKEND" = postgres ]; then
  # What autovacuum would do shortly after a bulk load: statistics for the planner.
  psql -q -d "$DATABASE_URL" -c "VACUUM ANALYZE" >/dev/null
fi
seed_seconds=$(awk -v a="$seed_started" -v b="$(date +%s.%N)" 'BEGIN {printf "%.1f", b - a}')
field() { sed -n "s/.* $2=\([^ ]*\).*/\1/p" <<<" $1"; }
SEEDING="$(field "$seed_line" users) users in $(field "$seed_line" seconds) s through Core::create_users, batches of 10,000 ($(field "$seed_line" rate) users/s; $seed_seconds s with migrations$([ "$BACKEND" = sqlite ] || echo " and VACUUM ANALYZE")); database $(field "$seed_line" database_mib) MiB"
log "$SEEDING"

PORT=$(free_port)
URL="http://127.0.0.1:$PORT"
settings+=(
  "TESSERA_LISTEN=127.0.0.1:$PORT" "TESSERA_PUBLIC_URL=$URL"
  "TESSERA_ADMIN_TOKEN=$ADMIN_TOKEN" "TESSERA_LOG_LEVEL=warn"
)
(cd "$WORK" && exec env -i PATH="$PATH" HOME="$HOME" "${settings[@]}" \
  "${ON_SERVER_CPU[@]}" "$TESSERA" serve) >"$WORK/server.log" 2>&1 &
server_pid=$!
for attempt in $(seq 1 600); do
  curl -sf -o /dev/null "$URL/readyz" && break
  kill -0 "$server_pid" 2>/dev/null || { tail -n 20 "$WORK/server.log" >&2; die "the server exited"; }
  [ "$attempt" -lt 600 ] || { tail -n 20 "$WORK/server.log" >&2; die "no answer from $URL within 60 s"; }
  sleep 0.1
done

answer=$(curl -s -w '\n%{http_code}' -H "authorization: Bearer $ADMIN_TOKEN" -H 'content-type: application/json' \
  -d '{"name":"bench-scim","scopes":["scim"]}' "$URL/admin/v1/api-tokens")
[ "${answer##*$'\n'}" = 201 ] || die "POST /admin/v1/api-tokens: ${answer//$'\n'/ }"
SCIM_TOKEN=$(jq -r .secret <<<"${answer%$'\n'*}")

# The server must serve the seeded database, not an empty one of its own.
served=$(curl -sf -H "authorization: Bearer $SCIM_TOKEN" "$URL/scim/v2/Users?count=1&excludedAttributes=groups" | jq .totalResults)
[ "$served" = "$USERS" ] || die "the server sees $served users, not the $USERS seeded"

# ---------------------------------------------------------------------------------------------
# The scenarios

# Where the CPU went since `mark`, in percent of one core: the server; PostgreSQL (its
# backends for the bench database, its parallel workers and background processes, not its
# backends for other databases); the load generator; and anything else on the machine
# (another engineer's compiler or tests, say). A large last figure means the run's figures
# are not worth keeping.
HZ=$(getconf CLK_TCK)
busy_ticks() { awk '$1 == "cpu" {print $2 + $3 + $4 + $7 + $8 + $9}' /proc/stat; }
ticks_of() { awk '{print $14 + $15}' "/proc/$1/stat" 2>/dev/null || echo 0; }
children_ticks() { awk '{print $16 + $17}' "/proc/$$/stat"; }
database_ticks() {
  local total=0 pid title
  if [ -n "$database" ]; then
    for pid in $(pgrep -x postgres || true); do
      title=$(tr '\0' ' ' <"/proc/$pid/cmdline" 2>/dev/null) || continue
      # A client backend's title is "postgres: [CLUSTER: ]USER DATABASE HOST(PORT) STATE".
      if [[ "$title" =~ ^postgres:\ ([^\ ]+:\ )?[^\ ]+\ ([^\ ]+)\ (\[local\]|[0-9a-f.:]+\([0-9]+\)) ]] &&
        [ "${BASH_REMATCH[2]}" != "$database" ]; then
        continue
      fi
      total=$((total + $(ticks_of "$pid")))
    done
  fi
  echo "$total"
}
mark() {
  MARK=("$(date +%s.%N)" "$(busy_ticks)" "$(ticks_of "$server_pid")" "$(database_ticks)" "$(children_ticks)")
}
since_mark() {
  awk -v t0="${MARK[0]}" -v t1="$(date +%s.%N)" -v b0="${MARK[1]}" -v b1="$(busy_ticks)" \
    -v s0="${MARK[2]}" -v s1="$(ticks_of "$server_pid")" -v d0="${MARK[3]}" -v d1="$(database_ticks)" \
    -v l0="${MARK[4]}" -v l1="$(children_ticks)" -v hz="$HZ" \
    'BEGIN { t = (t1 - t0) * hz / 100; s = (s1 - s0) / t; d = (d1 - d0) / t; l = (l1 - l0) / t
             o = (b1 - b0) / t - s - d - l; printf "%.0f/%.0f/%.0f/%.0f", s, d, l, (o > 0 ? o : 0) }'
}

declare -A RESULT CPU
loadgen() { # KEY MODE OPTIONS…
  local key=$1 line
  shift
  mark
  line=$("${ON_LOAD_CPU[@]}" "$LOADGEN" "$@" --url "$URL" --token "$SCIM_TOKEN" | grep '^RESULT') || true
  kill -0 "$server_pid" 2>/dev/null || { tail -n 30 "$WORK/server.log" >&2; die "$key: the server exited"; }
  [ -n "$line" ] || die "$key: the load generator failed"
  RESULT[$key]=$line
  CPU[$key]=$(since_mark)
  log "$key: $line (CPU, % of one core, server/PostgreSQL/load generator/anything else: ${CPU[$key]})"
}

window=(--warmup "$WARMUP" --duration "$DURATION")
# Reads and PATCHes first, on exactly the seeded users; then the creations, which add some.
loadgen eq eq --users "$WORK/users.tsv" --concurrency "$CONCURRENCY" "${window[@]}"
loadgen eq-1 eq --users "$WORK/users.tsv" --concurrency 1 "${window[@]}"
loadgen contains contains --users "$WORK/users.tsv" --count "$CONTAINS_COUNT" \
  --concurrency "$CONTAINS_CONCURRENCY" --warmup "$WARMUP" --duration "$CONTAINS_DURATION"
loadgen patch patch --users "$WORK/users.tsv" --concurrency "$CONCURRENCY" "${window[@]}"
loadgen create create --tag "$RUN_TAG" --concurrency "$CONCURRENCY" "${window[@]}"
for connections in "${BULK_CONNECTIONS[@]}"; do
  loadgen "bulk-$connections" bulk --tag "$RUN_TAG-c$connections" --operations "$BULK_OPERATIONS" \
    --concurrency "$connections" --warmup "$WARMUP" --duration "$BULK_DURATION"
done
RSS=$(awk '/^VmRSS/ {printf "%.1f MiB", $2 / 1024}' "/proc/$server_pid/status")
problems=$(grep -E ' (ERROR|WARN) ' "$WORK/server.log" | grep -vc 'key encryption key' | grep -v '^0$' || true)

# ---------------------------------------------------------------------------------------------
# The table

thousands() { awk -v n="$1" 'BEGIN { s = sprintf("%.0f", n); while (s ~ /[0-9][0-9][0-9][0-9]/) sub(/[0-9][0-9][0-9]([,]|$)/, ",&", s); print s }'; }
rate_text() { awk -v n="$1" 'BEGIN { exit !(n < 10) }' && printf '%.2f' "$1" || thousands "$1"; }
errors_of() { local e; e=$(field "$1" errors); [ "$e" = 0 ] || echo " ($e errors)"; }
met() { if awk "BEGIN { exit !($1) }"; then echo yes; else echo "**no**"; fi; }
row() { # LABEL KEY CONNECTIONS THROUGHPUT TARGET MET
  local r="${RESULT[$2]}"
  echo "| $1 | $3 | $(thousands "$(field "$r" requests)") | $4$(errors_of "$r") | $(field "$r" p50_ms) / $(field "$r" p99_ms) | $5 | $6 | ${CPU[$2]##*/} % |"
}

echo
echo "backend: $BACKEND; $USERS users; setup: $PINNED, nice $NICE; ${WARMUP} s warm-up, then ${DURATION} s per scenario (Bulk ${BULK_DURATION} s, \`emails co\` ${CONTAINS_DURATION} s)"
echo "seeding: $SEEDING"
echo
echo "| figure | connections | requests measured | throughput | p50 / p99 ms | target | met | other load |"
echo "|---|---|---|---|---|---|---|---|"
r="${RESULT[create]}"
row "create: \`POST /Users\`, one light account each" create "$CONCURRENCY" "$(thousands "$(field "$r" units_rate)") users/s" "" ""
for connections in "${BULK_CONNECTIONS[@]}"; do
  r="${RESULT[bulk-$connections]}"
  row "create: \`POST /Bulk\` of $(thousands "$BULK_OPERATIONS") light accounts" "bulk-$connections" "$connections" \
    "**$(thousands "$(field "$r" units_rate)") users/s** ($(field "$r" rate) Bulk/s)" "≥ 2,000 users/s" \
    "$(met "$(field "$r" units_rate) >= 2000 && $(field "$r" errors) == 0")"
done
for key in eq eq-1; do
  r="${RESULT[$key]}"
  connections=$CONCURRENCY
  [ "$key" = eq ] || connections=1
  row "\`GET /Users?filter=userName eq \"…\"\`" "$key" "$connections" "$(rate_text "$(field "$r" rate)") req/s, each totalResults 1" \
    "p99 < 5 ms" "$(met "$(field "$r" p99_ms) < 5 && $(field "$r" errors) == 0")"
done
r="${RESULT[contains]}"
row "\`GET /Users?filter=emails co \"…\"&count=$CONTAINS_COUNT\`" contains "$CONTAINS_CONCURRENCY" \
  "$(rate_text "$(field "$r" rate)") req/s; totalResults median $(field "$r" median_units), mean $(field "$r" mean_units)" "" ""
r="${RESULT[patch]}"
row "\`PATCH /Users/{id}\` replacing displayName" patch "$CONCURRENCY" "$(rate_text "$(field "$r" rate)") req/s" "" ""
echo
echo "\"other load\" is the CPU that processes outside the benchmark used during the scenario, in % of one core: near 0 for figures worth keeping. CPU during each scenario, % of one core, server / PostgreSQL / load generator / anything else:$(for key in eq eq-1 contains patch create "${BULK_CONNECTIONS[@]/#/bulk-}"; do
  printf ' %s %s;' "$key" "${CPU[$key]}"
done | sed 's/;$//'). Server VmRSS at the end: $RSS.${problems:+ The server logged $problems ERROR/WARN lines.}"
echo "load average at the end: $(cut -d' ' -f1-3 /proc/loadavg)"
