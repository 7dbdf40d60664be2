#!/usr/bin/env bash
# OpenID Connect load, side by side: Tessera and oidc-provider (panva's certified Node.js
# provider, bench/oidc/peer/) on the same machine in one run, one server at a time, each
# pinned to one core (SERVER_CPU) with the load generators on another (LOAD_CPU). Scenarios:
# discovery, JWKS and client_credentials (wrk), the refresh-token grant and Tessera's full
# password sign-in (bench/oidc/loadgen), against the Argon2id limit measured on the server's
# core (bench/oidc/argon2-limit), and an overload probe at twice the sign-in rate. Prints the
# machine, a Markdown table and the memory figures; bench/README.md explains them and keeps
# the latest run.
#
#   bench/oidc/run.sh                    # Tessera on SQLite
#   BACKEND=postgres bench/oidc/run.sh   # Tessera on a fresh PostgreSQL database
#
# Environment (all optional):
#   BACKEND          sqlite (default) | postgres
#   PG_URL           a PostgreSQL server where a database may be created; default
#                    $TESSERA_TEST_DATABASE_URL, else postgres://postgres@127.0.0.1:5432/postgres
#   WARMUP           seconds of load before each measurement, not counted (default 2)
#   DURATION         seconds each scenario is measured (default 10)
#   CONNECTIONS      wrk connections (discovery, JWKS, client_credentials; default 64)
#   ALGORITHMS       access token algorithms of client_credentials (default "ES256 EdDSA
#                    RS256"); the first one is also used by every other scenario
#   ID_TOKEN_ALGORITHMS  the client's ID token algorithms of the refresh scenario, one
#                    refresh run each (default "RS256 ES256"; RS256 is both servers' default)
#   REFRESH_WORKERS  refresh-token chains, one per connection (default 32)
#   SIGNIN_WORKERS   concurrent sign-in flows (default 4)
#   SERVER_CPU, LOAD_CPU   cores of the server and of the load generators (default 0 and 1)
#   NICE             niceness of servers, load generators and the Argon2id measurement
#                    (default -10 as root, else 0): other work on the machine, such as a
#                    compiler, then disturbs the figures less
#   ARGON2_MEMORY_KIB, ARGON2_ITERATIONS, ARGON2_PARALLELISM   default 19456, 2, 1
#   TESSERA_BIN      a built tessera binary; without it: cargo build --release --locked
#   KEEP=1           keep the work directory (server logs, tokens) and print its path
set -euo pipefail

BENCH_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
REPO_DIR="$(cd "$BENCH_DIR/../.." && pwd)"
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$HOME/.cache/tessera-target}"

BACKEND="${BACKEND:-sqlite}"
PG_URL="${PG_URL:-${TESSERA_TEST_DATABASE_URL:-postgres://postgres@127.0.0.1:5432/postgres}}"
WARMUP="${WARMUP:-2}"
DURATION="${DURATION:-10}"
CONNECTIONS="${CONNECTIONS:-64}"
read -r -a ALGS <<<"${ALGORITHMS:-ES256 EdDSA RS256}"
read -r -a ID_ALGS <<<"${ID_TOKEN_ALGORITHMS:-RS256 ES256}"
REFRESH_WORKERS="${REFRESH_WORKERS:-32}"
SIGNIN_WORKERS="${SIGNIN_WORKERS:-4}"
SIGNIN_USERS=16
SERVER_CPU="${SERVER_CPU:-0}"
LOAD_CPU="${LOAD_CPU:-1}"
if [ -z "${NICE:-}" ]; then
  if [ "$(id -u)" = 0 ]; then NICE=-10; else NICE=0; fi
fi
ON_SERVER_CPU=(nice -n "$NICE" taskset -c "$SERVER_CPU")
ON_LOAD_CPU=(nice -n "$NICE" taskset -c "$LOAD_CPU")
M_KIB="${ARGON2_MEMORY_KIB:-19456}"
T_ITER="${ARGON2_ITERATIONS:-2}"
P_LANES="${ARGON2_PARALLELISM:-1}"
ADMIN_TOKEN="bench-admin-token-$(head -c 16 /dev/urandom | od -An -tx1 | tr -d ' \n')"
PEER_CLIENT="bench:bench-secret-$(head -c 16 /dev/urandom | od -An -tx1 | tr -d ' \n')"
REDIRECT_URI="http://127.0.0.1:9/cb"

log() { printf '== %s\n' "$*" >&2; }
die() {
  printf 'ERROR: %s\n' "$*" >&2
  exit 1
}
case "$BACKEND" in sqlite | postgres) ;; *) die "BACKEND must be sqlite or postgres" ;; esac
[ "${#ALGS[@]}" -gt 0 ] && [ "${#ID_ALGS[@]}" -gt 0 ] || die "ALGORITHMS or ID_TOKEN_ALGORITHMS is empty"

# ---------------------------------------------------------------------------------------------
# Prerequisites and builds

missing=()
for tool in wrk jq curl taskset python3 node npm; do command -v "$tool" >/dev/null || missing+=("$tool"); done
if [ "${#missing[@]}" -gt 0 ]; then
  [ "$(id -u)" = 0 ] || die "missing: ${missing[*]} (install them, or run as root to apt-get them)"
  log "apt-get install ${missing[*]}"
  apt-get install -y -qq "${missing[@]}" >/dev/null || { apt-get update -qq && apt-get install -y -qq "${missing[@]}" >/dev/null; }
fi
if [ "$BACKEND" = postgres ]; then
  command -v psql >/dev/null || die "BACKEND=postgres needs psql"
  pg_isready -q -d "$PG_URL" || die "PostgreSQL at $PG_URL is not reachable"
fi
if [ ! -d "$BENCH_DIR/peer/node_modules/oidc-provider" ] ||
  [ "$BENCH_DIR/peer/package-lock.json" -nt "$BENCH_DIR/peer/node_modules/.package-lock.json" ]; then
  log "npm ci (bench/oidc/peer)"
  (cd "$BENCH_DIR/peer" && npm ci --cache "$HOME/.cache/tessera-npm" --no-audit --no-fund --loglevel=error >&2)
fi

log "building (release)"
if [ -n "${TESSERA_BIN:-}" ]; then
  TESSERA="$TESSERA_BIN"
else
  (cd "$REPO_DIR" && cargo build --release --locked -q -p tessera)
  TESSERA="$CARGO_TARGET_DIR/release/tessera"
fi
cargo build --release --locked -q --manifest-path "$BENCH_DIR/argon2-limit/Cargo.toml"
cargo build --release --locked -q --manifest-path "$BENCH_DIR/loadgen/Cargo.toml"
ARGON2_LIMIT="$CARGO_TARGET_DIR/release/argon2-limit"
LOADGEN="$CARGO_TARGET_DIR/release/oidc-loadgen"

# ---------------------------------------------------------------------------------------------
# Servers: at most one runs at any time

WORK="$(mktemp -d /tmp/tessera-bench-oidc.XXXXXX)"
server_pid=""
database=""
stop_server() {
  if [ -n "$server_pid" ]; then
    kill "$server_pid" 2>/dev/null || true
    wait "$server_pid" 2>/dev/null || true
    server_pid=""
  fi
  if [ -n "$database" ]; then
    psql -q -d "$PG_URL" -c "DROP DATABASE IF EXISTS $database" >/dev/null 2>&1 || true
    database=""
  fi
}
cleanup() {
  stop_server
  if [ "${KEEP:-}" = 1 ]; then log "kept $WORK"; else rm -rf "$WORK"; fi
}
trap cleanup EXIT

free_port() { python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'; }

wait_for() { # URL LOG
  for _ in $(seq 1 300); do
    curl -sf -o /dev/null "$1" && return 0
    kill -0 "$server_pid" 2>/dev/null || { tail -n 20 "$2" >&2; die "the server exited"; }
    sleep 0.1
  done
  tail -n 20 "$2" >&2
  die "no answer from $1 within 30 s"
}

rss_kib() { awk '/^VmRSS/ {print $2}' "/proc/$1/status"; }
mib() { awk -v k="$1" 'BEGIN {printf "%.1f", k / 1024}'; }

# Samples the server's VmRSS every 0.2 s into FILE until stopped; peak_of FILE is the largest.
rss_sampler=""
start_sampling() {
  (
    taskset -pc "$LOAD_CPU" "$BASHPID" >/dev/null
    while kill -0 "$server_pid" 2>/dev/null; do rss_kib "$server_pid" >>"$1" || true; sleep 0.2; done
  ) &
  rss_sampler=$!
}
stop_sampling() {
  kill "$rss_sampler" 2>/dev/null || true
  wait "$rss_sampler" 2>/dev/null || true
}
peak_of() { sort -n "$1" | tail -n 1; }

# Tessera with a fresh database, from an empty directory and with only these settings.
start_tessera() { # ALGORITHM
  local dir="$WORK/tessera-$1" url
  mkdir -p "$dir/data"
  TESSERA_PORT=$(free_port)
  TESSERA_URL="http://127.0.0.1:$TESSERA_PORT"
  local settings=(
    "TESSERA_LISTEN=127.0.0.1:$TESSERA_PORT" "TESSERA_PUBLIC_URL=$TESSERA_URL"
    "TESSERA_DATA_DIR=$dir/data" "TESSERA_ADMIN_TOKEN=$ADMIN_TOKEN" "TESSERA_LOG_LEVEL=warn"
    "TESSERA_ACCESS_TOKEN_ALGORITHM=$1" "TESSERA_ARGON2_MEMORY_KIB=$M_KIB"
    "TESSERA_ARGON2_ITERATIONS=$T_ITER" "TESSERA_ARGON2_PARALLELISM=$P_LANES"
    "TESSERA_PASSWORD_WORKERS=1"
    # One load generator on one address measures the server, not the per-address limits.
    "TESSERA_RATE_LIMIT_SIGN_IN_PER_MINUTE=1000000" "TESSERA_RATE_LIMIT_TOKEN_PER_MINUTE=1000000"
  )
  if [ "$BACKEND" = postgres ]; then
    database="tessera_bench_$(head -c 6 /dev/urandom | od -An -tx1 | tr -d ' \n')"
    psql -q -d "$PG_URL" -c "CREATE DATABASE $database" >/dev/null
    url="${PG_URL%/*}/$database"
    settings+=("TESSERA_DATABASE_URL=$url")
  fi
  (cd "$dir" && exec env -i PATH="$PATH" HOME="$HOME" "${settings[@]}" \
    "${ON_SERVER_CPU[@]}" "$TESSERA" serve) >"$dir/server.log" 2>&1 &
  server_pid=$!
  wait_for "$TESSERA_URL/readyz" "$dir/server.log"
}

# oidc-provider with the same client (and SEED refresh tokens written to $WORK/peer-tokens).
start_peer() { # ALGORITHM ID_TOKEN_ALGORITHM SEED
  PEER_PORT=$(free_port)
  PEER_URL="http://127.0.0.1:$PEER_PORT"
  (cd "$BENCH_DIR/peer" && exec env NODE_ENV=production PORT="$PEER_PORT" BENCH_ALG="$1" \
    BENCH_ID_TOKEN_ALG="$2" BENCH_CLIENT_ID="${PEER_CLIENT%%:*}" BENCH_CLIENT_SECRET="${PEER_CLIENT#*:}" \
    BENCH_SEED_REFRESH="$3" BENCH_SEED_FILE="$WORK/peer-tokens" \
    "${ON_SERVER_CPU[@]}" node server.mjs) >"$WORK/peer-$1-$2.log" 2>&1 &
  server_pid=$!
  wait_for "$PEER_URL/.well-known/openid-configuration" "$WORK/peer-$1-$2.log"
}

patch_tenant() { # JSON (merge patch of the default tenant)
  local status
  status=$(curl -s -o /dev/null -w '%{http_code}' -X PATCH -H "authorization: Bearer $ADMIN_TOKEN" \
    -H 'content-type: application/merge-patch+json' -d "$1" "$TESSERA_URL/admin/v1/tenants/default")
  [ "$status" = 200 ] || die "PATCH the tenant: $status"
}

admin() { # PATH JSON
  local answer
  answer=$(curl -s -w '\n%{http_code}' -H "authorization: Bearer $ADMIN_TOKEN" \
    -H 'content-type: application/json' -d "$2" "$TESSERA_URL$1")
  [ "${answer##*$'\n'}" = 201 ] || die "POST $1: ${answer//$'\n'/ }"
  echo "${answer%$'\n'*}"
}

# The header of a JWT access token from a client_credentials grant: its `alg`.
token_alg() { # TOKEN_URL ID:SECRET BODY
  curl -sf -u "$2" -d "$3" "$1" | jq -r .access_token | cut -d. -f1 |
    python3 -c 'import base64, json, sys; s = sys.stdin.read().strip(); print(json.loads(base64.urlsafe_b64decode(s + "=" * (-len(s) % 4)))["alg"])'
}

# ---------------------------------------------------------------------------------------------
# Load

declare -A RESULT # "<server>:<scenario>" → the RESULT line of wrk or the load generator
field() { sed -n "s/.* $2=\([^ ]*\).*/\1/p" <<<" $1"; }

# How busy the server's core was since `mark`: the server's share and other processes' share
# (a compiler, say), in percent. The second should be near 0 for figures worth keeping.
declare -A CPU # key → "server% other%"
HZ=$(getconf CLK_TCK)
core_ticks() { awk -v c="cpu$1" '$1 == c {print $2 + $3 + $4 + $7 + $8 + $9}' /proc/stat; }
process_ticks() { awk '{print $14 + $15}' "/proc/$1/stat" 2>/dev/null || echo 0; }
mark() { MARK=("$(date +%s.%N)" "$(core_ticks "$SERVER_CPU")" "$(process_ticks "$server_pid")"); }
since_mark() {
  awk -v t0="${MARK[0]}" -v t1="$(date +%s.%N)" -v c0="${MARK[1]}" -v c1="$(core_ticks "$SERVER_CPU")" \
    -v p0="${MARK[2]}" -v p1="$(process_ticks "$server_pid")" -v hz="$HZ" \
    'BEGIN { d = (t1 - t0) * hz / 100; o = (c1 - c0 - (p1 - p0)) / d; printf "%.0f %.0f", (p1 - p0) / d, (o > 0 ? o : 0) }'
}

wrk_run() { # KEY URL [FORM_BODY AUTHORIZATION]
  local key=$1 url=$2 line
  export BENCH_BODY="${3:-}" BENCH_AUTH="${4:-}"
  mark
  if [ "$WARMUP" != 0 ]; then
    "${ON_LOAD_CPU[@]}" wrk -t1 -c"$CONNECTIONS" -d"${WARMUP}s" -s "$BENCH_DIR/lua/request.lua" "$url" >/dev/null
  fi
  line=$("${ON_LOAD_CPU[@]}" wrk -t1 -c"$CONNECTIONS" -d"${DURATION}s" --latency \
    -s "$BENCH_DIR/lua/request.lua" "$url" | grep '^RESULT') || true
  check_alive "$key"
  [ -n "$line" ] || die "$key: wrk gave no result"
  RESULT[$key]=$line
  CPU[$key]=$(since_mark)
  log "$key: $line (server core: server ${CPU[$key]% *} %, others ${CPU[$key]#* } %)"
}

loadgen() { # KEY MODE OPTIONS…
  local key=$1 line
  shift
  mark
  line=$("${ON_LOAD_CPU[@]}" "$LOADGEN" "$@" | grep '^RESULT') || true
  check_alive "$key"
  [ -n "$line" ] || die "$key: the load generator failed"
  RESULT[$key]=$line
  CPU[$key]=$(since_mark)
  log "$key: $line (server core: server ${CPU[$key]% *} %, others ${CPU[$key]#* } %)"
}

# A server that died under load is a finding: show how it ended.
check_alive() { # KEY
  kill -0 "$server_pid" 2>/dev/null && return 0
  local status=0
  wait "$server_pid" 2>/dev/null || status=$?
  server_pid=""
  tail -n 30 "$(ls -t "$WORK"/*.log "$WORK"/*/server.log 2>/dev/null | head -n 1)" >&2
  die "$1: the server exited (status $status) during the scenario"
}

# ---------------------------------------------------------------------------------------------
# The rounds: Tessera, then oidc-provider, for each access token algorithm

TOKEN_FORM="grant_type=client_credentials&scope=api:read"
PRIMARY="${ALGS[0]}"

ARGON2_RATES=()
argon2_limit() {
  local line
  log "Argon2id limit on core $SERVER_CPU (m=$M_KIB t=$T_ITER p=$P_LANES, one thread, one reused buffer)"
  line=$("${ON_SERVER_CPU[@]}" "$ARGON2_LIMIT" "$M_KIB" "$T_ITER" "$P_LANES" 5)
  log "$line"
  ARGON2_RATES+=("$(sed -n 's/.*: \([0-9.]*\) verifications\/s.*/\1/p' <<<"$line")")
}

tessera_round() { # ALGORITHM
  local alg=$1 machine cc_client got basic web web_client flow id_alg password problems
  log "Tessera, $alg access tokens"
  start_tessera "$alg"
  sleep 2
  [ "$alg" != "$PRIMARY" ] || TESSERA_IDLE=$(rss_kib "$server_pid")
  machine=$(admin /admin/v1/clients '{"client_name":"bench","grant_types":["client_credentials"],"scope":"api:read","token_endpoint_auth_method":"client_secret_basic"}')
  cc_client="$(jq -r .client_id <<<"$machine"):$(jq -r .client_secret <<<"$machine")"
  got=$(token_alg "$TESSERA_URL/oauth2/token" "$cc_client" "$TOKEN_FORM")
  [ "$got" = "$alg" ] || die "Tessera signed its access token with $got, not $alg"
  basic="Basic $(printf '%s' "$cc_client" | base64 -w0)"
  if [ "$alg" != "$PRIMARY" ]; then
    wrk_run "tessera:cc-$alg" "$TESSERA_URL/oauth2/token" "$TOKEN_FORM" "$basic"
    stop_server
    return
  fi
  wrk_run tessera:discovery "$TESSERA_URL/.well-known/openid-configuration"
  curl -sf -o "$WORK/discovery.json" "$TESSERA_URL/.well-known/openid-configuration"
  wrk_run tessera:jwks "$TESSERA_URL/jwks"
  # The peak under token load is sampled during client_credentials and refresh only (not
  # while users are created and grants made: those hash passwords).
  start_sampling "$WORK/tessera-rss"
  wrk_run "tessera:cc-$alg" "$TESSERA_URL/oauth2/token" "$TOKEN_FORM" "$basic"
  stop_sampling
  : >"$WORK/users.tsv"
  for i in $(seq 1 "$SIGNIN_USERS"); do
    # The password policy refuses passwords that contain the email or the name.
    password="load test secret $i $(head -c 9 /dev/urandom | base64 | tr '+/' '-_')"
    admin /admin/v1/users "{\"email\":\"bench$i@example.com\",\"given_name\":\"Bench $i\",\"password\":\"$password\"}" >/dev/null
    printf 'bench%s@example.com\t%s\n' "$i" "$password" >>"$WORK/users.tsv"
  done
  for id_alg in "${ID_ALGS[@]}"; do
    web=$(admin /admin/v1/clients "{\"client_name\":\"web $id_alg\",\"redirect_uris\":[\"$REDIRECT_URI\"],\"grant_types\":[\"authorization_code\",\"refresh_token\"],\"scope\":\"openid profile email offline_access\",\"first_party\":true,\"token_endpoint_auth_method\":\"client_secret_basic\",\"id_token_signed_response_alg\":\"$id_alg\"}")
    web_client="$(jq -r .client_id <<<"$web"):$(jq -r .client_secret <<<"$web")"
    flow=(--url "$TESSERA_URL" --client "$web_client" --redirect-uri "$REDIRECT_URI" --users "$WORK/users.tsv")
    # Each chain starts from a grant of its own, made by a full sign-in.
    loadgen "tessera:grants-$id_alg" grants "${flow[@]}" --count "$REFRESH_WORKERS" \
      --concurrency "$SIGNIN_WORKERS" --out "$WORK/tessera-tokens-$id_alg"
    start_sampling "$WORK/tessera-rss"
    loadgen "tessera:refresh-$id_alg" refresh --url "$TESSERA_URL" --client "$web_client" \
      --tokens "$WORK/tessera-tokens-$id_alg" --concurrency "$REFRESH_WORKERS" --warmup "$WARMUP" --duration "$DURATION"
    stop_sampling
  done
  TESSERA_LOADED=$(peak_of "$WORK/tessera-rss")
  TESSERA_AFTER=$(rss_kib "$server_pid")
  # The sign-in scenarios use the last web client. The Argon2id limit is measured on the
  # server's core (Tessera idle) just before and just after the sign-ins, 5 s each: on a
  # virtual machine a memory-bound hash varies with the neighbours, so the limit is their mean.
  # 16 accounts signing in at up to twice the sustainable rate have ~10 attempts each in
  # flight at once; the lockout counts each as a failure until it is settled, so with the
  # default 5 free attempts an account would trip its own lock. Real accounts are not
  # signed in to ten times at once; the figure here is the server's capacity.
  patch_tenant '{"settings": {"lockout": {"free_attempts": 20, "disable_after": 100}}}'
  argon2_limit
  loadgen tessera:signin signin "${flow[@]}" --concurrency "$SIGNIN_WORKERS" --warmup "$WARMUP" --duration "$DURATION"
  # The risk engine's cost: the same sign-ins with adaptive MFA (every attempt assessed; the
  # load's scores stay below every threshold, so no second factor is asked) and with the
  # risk engine off (no assessment at all).
  patch_tenant '{"settings": {"mfa": {"mode": "adaptive"}}}'
  loadgen tessera:signin-adaptive signin "${flow[@]}" --concurrency "$SIGNIN_WORKERS" --warmup "$WARMUP" --duration "$DURATION"
  patch_tenant '{"settings": {"mfa": {"mode": "optional"}, "risk": {"enabled": false}}}'
  loadgen tessera:signin-risk-off signin "${flow[@]}" --concurrency "$SIGNIN_WORKERS" --warmup "$WARMUP" --duration "$DURATION"
  patch_tenant '{"settings": {"risk": {"enabled": true}}}'
  argon2_limit
  ARGON2_RATE=$(awk -v a="${ARGON2_RATES[0]}" -v b="${ARGON2_RATES[1]}" 'BEGIN {printf "%.1f", (a + b) / 2}')
  OVERLOAD_RATE=$(awk -v r="$(field "${RESULT[tessera:signin]}" rate)" 'BEGIN {printf "%.1f", 2 * r}')
  # The overload probe measures the hashers' admission control (a fast 503 beyond the
  # limit). With one load generator on one address and 16 accounts, the lockout (attempts
  # in flight count until settled) and the risk engine's failure velocity would start
  # refusing the flood themselves, as they should for a real one; here they are relaxed.
  patch_tenant '{"settings": {"risk": {"enabled": false}, "lockout": {"free_attempts": 20, "disable_after": 100}}}'
  loadgen tessera:overload overload "${flow[@]}" --rate "$OVERLOAD_RATE" --duration "$DURATION"
  TESSERA_FINAL=$(rss_kib "$server_pid")
  problems=$(grep -E ' (ERROR|WARN) ' "$WORK/tessera-$alg/server.log" | grep -v 'key encryption key' || true)
  if [ -n "$problems" ]; then
    TESSERA_LOG_LINES=$(wc -l <<<"$problems")
    log "Tessera logged $TESSERA_LOG_LINES warnings or errors, by message:"$'\n'"$(cut -c 29- <<<"$problems" | sed 's/latency=[0-9]* ms//' | sort | uniq -c | head -n 10)"
  fi
  stop_server
}

peer_round() { # ALGORITHM
  local alg=$1 got basic id_alg seed
  for id_alg in "${ID_ALGS[@]}"; do
    seed=0
    [ "$alg" != "$PRIMARY" ] || seed="$REFRESH_WORKERS"
    log "oidc-provider, $alg access tokens, $id_alg ID tokens"
    start_peer "$alg" "$id_alg" "$seed"
    sleep 2
    if [ "$id_alg" = "${ID_ALGS[0]}" ]; then
      [ "$alg" != "$PRIMARY" ] || PEER_IDLE=$(rss_kib "$server_pid")
      got=$(token_alg "$PEER_URL/token" "$PEER_CLIENT" "$TOKEN_FORM")
      [ "$got" = "$alg" ] || die "oidc-provider signed its access token with $got, not $alg"
      basic="Basic $(printf '%s' "$PEER_CLIENT" | base64 -w0)"
      if [ "$alg" = "$PRIMARY" ]; then
        wrk_run peer:discovery "$PEER_URL/.well-known/openid-configuration"
        wrk_run peer:jwks "$PEER_URL/jwks"
        start_sampling "$WORK/peer-rss"
      fi
      wrk_run "peer:cc-$alg" "$PEER_URL/token" "$TOKEN_FORM" "$basic"
    fi
    if [ "$alg" = "$PRIMARY" ]; then
      [ "$id_alg" = "${ID_ALGS[0]}" ] || start_sampling "$WORK/peer-rss"
      loadgen "peer:refresh-$id_alg" refresh --url "$PEER_URL" --token-path /token --client "$PEER_CLIENT" \
        --tokens "$WORK/peer-tokens" --concurrency "$REFRESH_WORKERS" --warmup "$WARMUP" --duration "$DURATION"
      stop_sampling
    fi
    stop_server
    [ "$alg" = "$PRIMARY" ] || return 0
  done
  PEER_LOADED=$(peak_of "$WORK/peer-rss")
}

cpu_model=$(awk -F': ' '/model name/ {print $2; exit}' /proc/cpuinfo)
echo "machine: $(nproc) cores ($cpu_model), $(awk '/MemTotal/ {printf "%.0f GiB", $2/1048576}' /proc/meminfo), $(uname -sr); $(date -u +%Y-%m-%d)"
echo "software: tessera $(git -C "$REPO_DIR" rev-parse --short HEAD 2>/dev/null || echo '?') ($BACKEND), oidc-provider $(jq -r .version "$BENCH_DIR/peer/node_modules/oidc-provider/package.json") on node $(node --version), wrk $(wrk -v 2>&1 | awk 'NR == 1 {print $2}')"
echo "setup: servers on core $SERVER_CPU, load on core $LOAD_CPU, both at nice $NICE; ${WARMUP} s warm-up + ${DURATION} s per scenario; wrk -t1 -c$CONNECTIONS; $REFRESH_WORKERS refresh chains; $SIGNIN_WORKERS sign-in workers; load average at start: $(cut -d' ' -f1-3 /proc/loadavg)"

for alg in "${ALGS[@]}"; do
  tessera_round "$alg"
  peer_round "$alg"
done

# The ceiling: a bare hyper server (one thread) serving Tessera's discovery document on the
# same core. No server on this machine can answer faster, whatever it does per request.
CEILING_PORT=$(free_port)
"${ON_SERVER_CPU[@]}" "$LOADGEN" static --listen "127.0.0.1:$CEILING_PORT" --file "$WORK/discovery.json" \
  >"$WORK/ceiling.log" 2>&1 &
server_pid=$!
wait_for "http://127.0.0.1:$CEILING_PORT/" "$WORK/ceiling.log"
wrk_run ceiling:discovery "http://127.0.0.1:$CEILING_PORT/"
stop_server

# ---------------------------------------------------------------------------------------------
# The tables

thousands() { awk -v n="$1" 'BEGIN { s = sprintf("%.0f", n); while (s ~ /[0-9][0-9][0-9][0-9]/) sub(/[0-9][0-9][0-9]([,]|$)/, ",&", s); print s }'; }
at_least() { awk -v a="$1" -v b="$2" 'BEGIN { print (a + 0 >= b + 0) ? "yes" : "**no**" }'; }
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.1f", a / b }'; }
latency() { echo "$(field "$1" p50_ms) / $(field "$1" p99_ms)"; }
rate_of() { # RESULT: the rate, with the number of errors if any
  local errors
  errors=$(field "$1" errors)
  echo "$(thousands "$(field "$1" rate)")$([ "${errors:-0}" = 0 ] || echo " ($errors errors)")"
}
row() { # LABEL KEY TARGET_RATIO
  local t="${RESULT[tessera:$2]}" p="${RESULT[peer:$2]}" r
  r=$(ratio "$(field "$t" rate)" "$(field "$p" rate)")
  echo "| $1 | $(rate_of "$t") | $(latency "$t") | $(rate_of "$p") | $(latency "$p") | ${r}× | ≥ $3× | $(at_least "$r" "$3") |"
}

echo
echo "| scenario | Tessera /s | p50 / p99 ms | oidc-provider /s | p50 / p99 ms | ratio | target | met |"
echo "|---|---|---|---|---|---|---|---|"
row discovery discovery 5
row JWKS jwks 5
for alg in "${ALGS[@]}"; do row "client_credentials, $alg JWT" "cc-$alg" 3; done
for id_alg in "${ID_ALGS[@]}"; do
  t="${RESULT[tessera:refresh-$id_alg]}" p="${RESULT[peer:refresh-$id_alg]}"
  echo "| refresh_token, $PRIMARY access + $id_alg ID token | $(rate_of "$t") | $(latency "$t") | $(rate_of "$p") | $(latency "$p") | $(ratio "$(field "$t" rate)" "$(field "$p" rate)")× | ≥ 1,200/s | $(at_least "$(field "$t" rate)" 1200) |"
done
t="${RESULT[tessera:signin]}"
share=$(awk -v a="$(field "$t" rate)" -v b="$ARGON2_RATE" 'BEGIN {printf "%.2f", a / b}')
echo "| password sign-in, full flow | $(field "$t" rate)$([ "$(field "$t" errors)" = 0 ] || echo " ($(field "$t" errors) errors)") | $(latency "$t") | Argon2id limit: $ARGON2_RATE (${ARGON2_RATES[0]} before, ${ARGON2_RATES[1]} after) | | $share of the limit | ≥ 0.85 | $(at_least "$share" 0.85) |"
a="${RESULT[tessera:signin-adaptive]}" n="${RESULT[tessera:signin-risk-off]}"
echo "| password sign-in, adaptive MFA on (risk assessed) | $(field "$a" rate) | $(latency "$a") | | | | | |"
echo "| password sign-in, risk engine off | $(field "$n" rate) | $(latency "$n") | | | | | |"
o="${RESULT[tessera:overload]}"
fast=$(awk -v b="$(field "$o" busy)" -v p="$(field "$o" busy_p99_ms)" -v e="$(field "$o" errors)" 'BEGIN { print (b > 0 && p < 100 && e == 0) ? "yes" : "**no**" }')
echo "| sign-ins offered at $(field "$o" offered)/s (2×) | $(field "$o" ok_rate) completed$([ "$(field "$o" errors)" = 0 ] || echo " ($(field "$o" errors) errors)") | 503: $(field "$o" busy_p50_ms) / $(field "$o" busy_p99_ms) | | | $(awk -v s="$(field "$o" busy_share)" 'BEGIN {printf "%.0f", 100 * s}') % answered 503 | fast 503 beyond the limit | $fast |"
c=$(field "${RESULT[ceiling:discovery]}" rate)
echo
echo "Risk: adaptive MFA on reaches $(awk -v a="$(field "$a" rate)" -v n="$(field "$n" rate)" 'BEGIN {printf "%.1f", 100 * a / n}') % of the sign-in rate with the risk engine off; p50 $(field "$a" p50_ms) vs $(field "$n" p50_ms) ms (target: risk adds < 2 % to a sign-in's server time)."
echo "Ceiling: a bare hyper server answering every request with the same discovery document on the same core: $(thousands "$c")/s. Tessera's discovery reaches $(awk -v a="$(field "${RESULT[tessera:discovery]}" rate)" -v c="$c" 'BEGIN {printf "%.0f", 100 * a / c}') % of it, its JWKS $(awk -v a="$(field "${RESULT[tessera:jwks]}" rate)" -v c="$c" 'BEGIN {printf "%.0f", 100 * a / c}') %; oidc-provider's discovery $(awk -v a="$(field "${RESULT[peer:discovery]}" rate)" -v c="$c" 'BEGIN {printf "%.0f", 100 * a / c}') %."
echo
echo "Overload: $(field "$o" started) sign-ins started in ${DURATION} s, $(field "$o" ok) completed, $(field "$o" busy) answered 503 by the password step (p50 $(field "$o" busy_p50_ms) ms, p99 $(field "$o" busy_p99_ms) ms); completed ones took p50 $(field "$o" ok_p50_ms) ms, p99 $(field "$o" ok_p99_ms) ms, at most $(field "$o" ok_max_ms) ms.${TESSERA_LOG_LINES:+ Tessera logged $TESSERA_LOG_LINES ERROR/WARN lines.}"
echo
echo "| memory (VmRSS) | Tessera | oidc-provider | target (Tessera) | met |"
echo "|---|---|---|---|---|"
echo "| idle, 2 s after start | $(mib "$TESSERA_IDLE") MiB | $(mib "$PEER_IDLE") MiB | < 20 MiB | $(at_least 20480 "$((TESSERA_IDLE + 1))") |"
echo "| peak under token load ($PRIMARY client_credentials and refresh) | $(mib "$TESSERA_LOADED") MiB | $(mib "$PEER_LOADED") MiB | < 64 MiB | $(at_least 65536 "$((TESSERA_LOADED + 1))") |"
echo "| Tessera after the token load / after the sign-in scenarios | $(mib "$TESSERA_AFTER") / $(mib "$TESSERA_FINAL") MiB | | | |"
echo
echo "Server core during each scenario, server % / other processes %:$(for key in "${!CPU[@]}"; do
  printf ' %s %s/%s;' "$key" "${CPU[$key]% *}" "${CPU[$key]#* }"
done | tr ';' '\n' | sort | tr '\n' ';' | sed 's/;$//')"
echo "load average at the end: $(cut -d' ' -f1-3 /proc/loadavg)"
