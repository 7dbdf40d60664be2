#!/usr/bin/env bash
# Tessera end to end: starts a real `tessera serve` on a free port with a fresh database, then
# runs the relying-party suites against it: Node (openid-client + Debian's Chromium through
# playwright-core) and Python (Authlib + the hosted pages over plain HTTP, and the scim2-tester
# SCIM 2.0 conformance checks). The server's mail goes to an SMTP sink on loopback
# (python/smtp_sink.py), which stores every message in artifacts/<backend>/mail/ (E2E_MAILDIR),
# and its text messages to an SMS provider on loopback (python/sms_sink.py), which stores each
# in artifacts/<backend>/sms/ (E2E_SMSDIR).
#
#   tests/e2e/run.sh                 # SQLite, then PostgreSQL
#   tests/e2e/run.sh sqlite          # or: BACKEND=sqlite tests/e2e/run.sh
#   tests/e2e/run.sh postgres
#
# Environment (all optional):
#   BACKEND          sqlite | postgres | both (default both; the first argument wins)
#   E2E_SUITES       which suites, default "node python"
#   TESSERA_BIN      a built tessera binary; without it: cargo build --locked -p tessera
#   CARGO_TARGET_DIR default $HOME/.cache/tessera-target
#   E2E_PG_URL       a PostgreSQL server where a database may be created; default
#                    $TESSERA_TEST_DATABASE_URL, else postgres://postgres@127.0.0.1:5432/postgres
#   E2E_CHROMIUM     default /usr/bin/chromium (installed with apt-get when missing and root)
#   E2E_VENV         default $HOME/.cache/tessera-e2e-venv
#   E2E_TIMEOUT_MS   the longest single wait inside the suites, default 30000
#   E2E_PYTEST_ARGS  extra pytest arguments for the Python suite, split on whitespace (no
#                    quoting), e.g. "-k scim" runs only test_scim.py, "-k oidc" the OIDC tests
#   CI=true          anything skipped (no Chromium, no PostgreSQL) is a failure
#
# Screenshots and page dumps of failed browser tests, request traces of failed SCIM runs
# (python/scim-*-trace.txt), JUnit reports, and the server and SMTP sink logs and the mails
# (mail/*.eml) of a failed run go to tests/e2e/artifacts/<backend>/ (gitignored).
set -euo pipefail

E2E_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
REPO_DIR="$(cd "$E2E_DIR/../.." && pwd)"

NPM_CACHE="$HOME/.cache/tessera-npm"
VENV="${E2E_VENV:-$HOME/.cache/tessera-e2e-venv}"
CHROMIUM="${E2E_CHROMIUM:-/usr/bin/chromium}"
PG_URL="${E2E_PG_URL:-${TESSERA_TEST_DATABASE_URL:-postgres://postgres@127.0.0.1:5432/postgres}}"
SUITES="${E2E_SUITES:-node python}"
READY_TIMEOUT=30
MAIL_FROM="no-reply@tessera.test"

log() { printf '== %s\n' "$*"; }
warn() { printf 'WARNING: %s\n' "$*" >&2; }
die() {
  printf 'ERROR: %s\n' "$*" >&2
  exit 1
}
banner() {
  printf '\n%s\n%s\n%s\n\n' "################################################################" \
    "#### $*" "################################################################" >&2
}
# A missing prerequisite: a loud skip, or a failure under CI=true.
skip_or_fail() {
  if [ "${CI:-}" = "true" ]; then
    banner "FAILED: $1 (CI=true, so a skip is a failure)"
    exit 1
  fi
  banner "SKIPPED: the Tessera end-to-end suites did NOT run: $1"
  exit 0
}
usage() {
  sed -n '2,/^set -euo/p' "${BASH_SOURCE[0]}" | sed '$d; s/^# \{0,1\}//'
}

case "${1:-${BACKEND:-both}}" in
sqlite) BACKENDS=(sqlite) ;;
postgres | postgresql) BACKENDS=(postgres) ;;
both | all | "") BACKENDS=(sqlite postgres) ;;
-h | --help)
  usage
  exit 0
  ;;
*)
  usage >&2
  exit 2
  ;;
esac
BACKEND_EXPLICIT=$([ "${#BACKENDS[@]}" -eq 1 ] && echo yes || echo no)

for suite in $SUITES; do
  case "$suite" in node | python) ;; *) die "unknown suite '$suite' in E2E_SUITES (node, python)" ;; esac
done
wants() { [[ " $SUITES " == *" $1 "* ]]; }

# --- prerequisites --------------------------------------------------------------------------

for tool in curl python3; do
  command -v "$tool" >/dev/null || die "$tool is required"
done
if wants node; then
  if ! command -v node >/dev/null || ! command -v npm >/dev/null; then
    die "node and npm (Node.js 20+) are required"
  fi
fi

seconds_since() { echo $((SECONDS - $1)); }

ensure_chromium() {
  [ -x "$CHROMIUM" ] && return 0
  if [ "$CHROMIUM" = /usr/bin/chromium ] && [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
    log "installing Debian's Chromium (apt-get install chromium)"
    local t=$SECONDS
    if DEBIAN_FRONTEND=noninteractive apt-get update -qq &&
      DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null; then
      log "Chromium installed in $(seconds_since "$t") s"
    else
      warn "apt-get install chromium failed"
    fi
  fi
  [ -x "$CHROMIUM" ] ||
    skip_or_fail "Chromium is not installed at $CHROMIUM and could not be installed (as root: apt-get install -y chromium)"
}

ensure_node_modules() {
  local stamp="$E2E_DIR/node_modules/.package-lock.json"
  if [ -f "$stamp" ] && [ ! "$E2E_DIR/package-lock.json" -nt "$stamp" ]; then return 0; fi
  log "npm ci (cache: $NPM_CACHE)"
  local t=$SECONDS
  # playwright-core never downloads browsers; the variable is a second lock on that door.
  (cd "$E2E_DIR" && PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD=1 npm ci --cache "$NPM_CACHE" \
    --no-audit --no-fund --loglevel=error)
  log "npm ci took $(seconds_since "$t") s"
}

ensure_venv() {
  local requirements="$E2E_DIR/python/requirements.txt" want have
  want=$(sha256sum "$requirements" | cut -d' ' -f1)
  have=$(cat "$VENV/.tessera-requirements.sha256" 2>/dev/null || true)
  if [ -x "$VENV/bin/python" ] && [ "$want" = "$have" ]; then return 0; fi
  log "Python venv at $VENV (pip install -r python/requirements.txt)"
  local t=$SECONDS
  [ -x "$VENV/bin/python" ] || python3 -m venv "$VENV"
  "$VENV/bin/python" -m pip install --quiet --disable-pip-version-check -r "$requirements"
  echo "$want" >"$VENV/.tessera-requirements.sha256"
  log "venv ready in $(seconds_since "$t") s"
}

if wants node; then
  ensure_chromium
  ensure_node_modules
fi
# Both suites need the venv: it runs the SMTP sink (aiosmtpd) that receives the server's mail.
ensure_venv

# --- the binary ---------------------------------------------------------------------------

absolute() { # a path made absolute against the repository
  case "$1" in /*) printf '%s\n' "$1" ;; *) printf '%s/%s\n' "$REPO_DIR" "$1" ;; esac
}

if [ -n "${TESSERA_BIN:-}" ]; then
  if [[ "$TESSERA_BIN" != */* ]]; then
    BIN=$(command -v "$TESSERA_BIN") || die "TESSERA_BIN=$TESSERA_BIN is not on PATH"
  else
    BIN=$(absolute "$TESSERA_BIN")
  fi
  [ -x "$BIN" ] || die "TESSERA_BIN=$TESSERA_BIN is not an executable file"
  log "using TESSERA_BIN=$BIN (not building)"
else
  export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$HOME/.cache/tessera-target}"
  CARGO_TARGET_DIR=$(absolute "$CARGO_TARGET_DIR")
  log "cargo build --locked -p tessera (target: $CARGO_TARGET_DIR)"
  (cd "$REPO_DIR" && cargo build --locked -p tessera)
  BIN="$CARGO_TARGET_DIR/debug/tessera"
fi

# --- one run per backend --------------------------------------------------------------------

random_hex() { python3 -c 'import secrets, sys; print(secrets.token_hex(int(sys.argv[1])))' "$1"; }
free_port() {
  python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1]); s.close()'
}
# PG_URL with its database replaced by $1 (query string kept).
pg_url_for() {
  local base="${PG_URL%%\?*}" query="" scheme authority
  [[ "$PG_URL" == *\?* ]] && query="?${PG_URL#*\?}"
  scheme="${base%%://*}"
  authority="${base#*://}"
  authority="${authority%%/*}"
  printf '%s://%s/%s%s\n' "$scheme" "$authority" "$1" "$query"
}
postgres_reachable() {
  command -v psql >/dev/null && PGCONNECT_TIMEOUT=5 psql "$PG_URL" -Atqc 'SELECT 1' >/dev/null 2>&1
}

SERVER_PID=""
SINK_PID=""
SMS_SINK_PID=""
PG_DB=""
WORK_DIR=""
SERVER_LOG=""
SINK_LOG=""
SMS_SINK_LOG=""

stop_server() {
  [ -n "$SERVER_PID" ] || return 0
  local pid=$SERVER_PID rc=0
  SERVER_PID=""
  if kill -0 "$pid" 2>/dev/null; then
    kill -TERM "$pid" 2>/dev/null || true
    for _ in $(seq 1 100); do
      kill -0 "$pid" 2>/dev/null || break
      sleep 0.1
    done
    if kill -0 "$pid" 2>/dev/null; then
      warn "tessera (pid $pid) still runs 10 s after SIGTERM; sending SIGKILL"
      kill -KILL "$pid" 2>/dev/null || true
    fi
  fi
  wait "$pid" 2>/dev/null || rc=$?
  if [ "$rc" -ne 0 ]; then
    warn "tessera exited with status $rc after SIGTERM (a graceful shutdown exits 0)"
  fi
}

# Stops a sink process (pid $1, named $2 in warnings).
stop_pid() {
  local pid=$1 what=$2 rc=0
  if kill -0 "$pid" 2>/dev/null; then
    kill -TERM "$pid" 2>/dev/null || true
    for _ in $(seq 1 50); do
      kill -0 "$pid" 2>/dev/null || break
      sleep 0.1
    done
    kill -0 "$pid" 2>/dev/null && kill -KILL "$pid" 2>/dev/null || true
  fi
  wait "$pid" 2>/dev/null || rc=$?
  [ "$rc" -eq 0 ] || warn "$what (pid $pid) exited with status $rc"
}

# The sinks: stopped after the server, so that no mail or text message of a shutting-down
# server is lost.
stop_sink() {
  if [ -n "$SINK_PID" ]; then
    local pid=$SINK_PID
    SINK_PID=""
    stop_pid "$pid" "the SMTP sink"
  fi
  if [ -n "$SMS_SINK_PID" ]; then
    local pid=$SMS_SINK_PID
    SMS_SINK_PID=""
    stop_pid "$pid" "the SMS sink"
  fi
}

# Waits until $2 (a port file) is written by the process $1, at most 10 s; prints its log $3 on
# failure.
wait_for_port_file() {
  local pid=$1 port_file=$2 logfile=$3 started=$SECONDS
  until [ -s "$port_file" ]; do
    if ! kill -0 "$pid" 2>/dev/null || ((SECONDS - started >= 10)); then
      cat "$logfile" >&2 || true
      return 1
    fi
    sleep 0.1
  done
}

# Starts python/smtp_sink.py on a free loopback port; it stores each mail in $1. Sets SINK_PID
# and SMTP_PORT.
start_sink() {
  local maildir=$1 port_file="$WORK_DIR/smtp-sink.port"
  SINK_LOG="$WORK_DIR/smtp-sink.log"
  "$VENV/bin/python" "$E2E_DIR/python/smtp_sink.py" --host 127.0.0.1 --port 0 \
    --maildir "$maildir" --port-file "$port_file" >"$SINK_LOG" 2>&1 &
  SINK_PID=$!
  wait_for_port_file "$SINK_PID" "$port_file" "$SINK_LOG" || return 1
  SMTP_PORT=$(cat "$port_file")
}

# Starts python/sms_sink.py (the SMS provider) on a free loopback port; it stores each text
# message in $1 and wants the bearer token $2. Sets SMS_SINK_PID and SMS_PORT.
start_sms_sink() {
  local smsdir=$1 token=$2 port_file="$WORK_DIR/sms-sink.port"
  SMS_SINK_LOG="$WORK_DIR/sms-sink.log"
  "$VENV/bin/python" "$E2E_DIR/python/sms_sink.py" --host 127.0.0.1 --port 0 \
    --dir "$smsdir" --token "$token" --port-file "$port_file" >"$SMS_SINK_LOG" 2>&1 &
  SMS_SINK_PID=$!
  wait_for_port_file "$SMS_SINK_PID" "$port_file" "$SMS_SINK_LOG" || return 1
  SMS_PORT=$(cat "$port_file")
}

cleanup_backend() {
  stop_server
  stop_sink
  if [ -n "$PG_DB" ]; then
    psql "$PG_URL" -qc "DROP DATABASE IF EXISTS \"$PG_DB\" WITH (FORCE)" >/dev/null 2>&1 ||
      warn "could not drop the PostgreSQL database $PG_DB"
    PG_DB=""
  fi
  if [ -n "$WORK_DIR" ]; then
    rm -rf "$WORK_DIR"
    WORK_DIR=""
  fi
}
trap cleanup_backend EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

server_log_tail() {
  [ -n "$SERVER_LOG" ] && [ -f "$SERVER_LOG" ] || return 0
  printf '\n---- last 200 lines of the server log (%s) ----\n' "$1" >&2
  tail -n 200 "$SERVER_LOG" >&2 || true
  printf -- '---- end of the server log ----\n\n' >&2
}

# Runs both suites against one fresh server; returns non-zero when anything failed.
run_backend() {
  local backend=$1 artifacts="$E2E_DIR/artifacts/$1" db_url port issuer admin_token run_id
  local maildir="$E2E_DIR/artifacts/$1/mail" SMTP_PORT=""
  local smsdir="$E2E_DIR/artifacts/$1/sms" SMS_PORT="" sms_token
  rm -rf "$artifacts"
  mkdir -p "$artifacts"
  WORK_DIR=$(mktemp -d "${TMPDIR:-/tmp}/tessera-e2e-$backend.XXXXXX")
  mkdir "$WORK_DIR/data"
  SERVER_LOG="$WORK_DIR/server.log"

  case "$backend" in
  sqlite) db_url="sqlite://$WORK_DIR/data/tessera.db?mode=rwc" ;;
  postgres)
    PG_DB="tessera_e2e_$(random_hex 6)"
    psql "$PG_URL" -v ON_ERROR_STOP=1 -qc "CREATE DATABASE \"$PG_DB\"" >/dev/null
    db_url=$(pg_url_for "$PG_DB")
    ;;
  esac

  if ! start_sink "$maildir"; then
    printf 'ERROR: [%s] the SMTP sink (python/smtp_sink.py) did not start\n' "$backend" >&2
    return 1
  fi
  log "[$backend] SMTP sink on 127.0.0.1:$SMTP_PORT, mails in $maildir"
  sms_token=$(random_hex 16)
  if ! start_sms_sink "$smsdir" "$sms_token"; then
    printf 'ERROR: [%s] the SMS sink (python/sms_sink.py) did not start\n' "$backend" >&2
    return 1
  fi
  log "[$backend] SMS sink on 127.0.0.1:$SMS_PORT, text messages in $smsdir"

  port=$(free_port)
  # localhost, not 127.0.0.1: WebAuthn refuses IP addresses, and the passkey suite needs it.
  issuer="http://localhost:$port"
  admin_token=$(random_hex 32)
  run_id="$backend-$(random_hex 4)"

  # Only the settings below reach the server: other TESSERA_* variables of this shell are
  # dropped, and it runs in an empty directory so that no ./tessera.toml is picked up.
  local -a unset_env=()
  local name
  while IFS= read -r name; do unset_env+=(-u "$name"); done < <(compgen -e | grep '^TESSERA_' || true)
  log "[$backend] starting tessera on $issuer"
  (
    cd "$WORK_DIR"
    exec env ${unset_env[@]+"${unset_env[@]}"} \
      TESSERA_LISTEN="127.0.0.1:$port" \
      TESSERA_PUBLIC_URL="$issuer" \
      TESSERA_DATABASE_URL="$db_url" \
      TESSERA_DATA_DIR="$WORK_DIR/data" \
      TESSERA_ADMIN_TOKEN="$admin_token" \
      TESSERA_LOG_LEVEL="${E2E_LOG_LEVEL:-info}" \
      TESSERA_MAIL_TRANSPORT=smtp \
      TESSERA_SMTP_HOST=127.0.0.1 \
      TESSERA_SMTP_PORT="$SMTP_PORT" \
      TESSERA_SMTP_TLS=none \
      TESSERA_MAIL_FROM="$MAIL_FROM" \
      TESSERA_SMS_TRANSPORT=http \
      TESSERA_SMS_HTTP_URL="http://127.0.0.1:$SMS_PORT/messages" \
      TESSERA_SMS_HTTP_AUTH=bearer \
      TESSERA_SMS_HTTP_TOKEN="$sms_token" \
      TESSERA_SMS_HTTP_BODY_TEMPLATE='{"to": "{to}", "text": "{text}"}' \
      TESSERA_OUTBOUND_ALLOW_PRIVATE=true \
      TESSERA_RATE_LIMIT_SIGN_IN_PER_MINUTE=100000 \
      TESSERA_RATE_LIMIT_SIGN_UP_PER_MINUTE=100000 \
      TESSERA_RATE_LIMIT_CODES_PER_MINUTE=100000 \
      TESSERA_RATE_LIMIT_TOKEN_PER_MINUTE=100000 \
      "$BIN" serve
  ) >"$SERVER_LOG" 2>&1 &
  SERVER_PID=$!

  local started=$SECONDS
  until curl -fsS -o /dev/null --max-time 2 "$issuer/readyz" 2>/dev/null; do
    if ! kill -0 "$SERVER_PID" 2>/dev/null; then
      printf 'ERROR: [%s] tessera exited before it was ready\n' "$backend" >&2
      server_log_tail "$backend"
      return 1
    fi
    if ((SECONDS - started >= READY_TIMEOUT)); then
      printf 'ERROR: [%s] %s/readyz did not answer 200 within %s s\n' "$backend" "$issuer" "$READY_TIMEOUT" >&2
      server_log_tail "$backend"
      return 1
    fi
    sleep 0.2
  done
  log "[$backend] ready after $((SECONDS - started)) s"

  # Fail early, and clearly, when the server does not offer what the suites need.
  local status
  status=$(curl -s -o /dev/null -w '%{http_code}' --max-time 10 "$issuer/.well-known/openid-configuration" || true)
  if [ "$status" != 200 ]; then
    printf 'ERROR: [%s] GET /.well-known/openid-configuration answered %s: OpenID Connect is not served (yet?)\n' \
      "$backend" "$status" >&2
    server_log_tail "$backend"
    return 1
  fi
  status=$(curl -s -o /dev/null -w '%{http_code}' --max-time 10 \
    -H "Authorization: Bearer $admin_token" "$issuer/admin/v1/users?limit=1" || true)
  if [ "$status" != 200 ]; then
    printf 'ERROR: [%s] the admin API refused the bootstrap token (GET /admin/v1/users answered %s)\n' \
      "$backend" "$status" >&2
    server_log_tail "$backend"
    return 1
  fi

  local failed=0
  export E2E_ISSUER="$issuer" E2E_ADMIN_TOKEN="$admin_token" E2E_CHROMIUM="$CHROMIUM" E2E_RUN_ID="$run_id"
  export E2E_MAILDIR="$maildir" E2E_SMSDIR="$smsdir"
  if wants node; then
    log "[$backend] node suite (openid-client + Chromium)"
    if ! (cd "$E2E_DIR" && E2E_ARTIFACTS="$artifacts/node" node --test \
      --test-reporter=spec --test-reporter-destination=stdout \
      --test-reporter=junit --test-reporter-destination="$artifacts/node-junit.xml" \
      node/oidc.test.mjs node/signup.test.mjs node/profiling.test.mjs node/identity.test.mjs node/mfa.test.mjs node/passkey.test.mjs); then
      failed=1
      printf 'FAILED: [%s] node suite (screenshots and page dumps in %s)\n' "$backend" "$artifacts/node" >&2
    fi
  fi
  if wants python; then
    log "[$backend] python suite (Authlib + hosted pages over HTTP, scim2-tester)"
    local -a pytest_args=()
    read -r -a pytest_args <<<"${E2E_PYTEST_ARGS:-}"
    if ! (cd "$E2E_DIR" && PYTHONDONTWRITEBYTECODE=1 E2E_ARTIFACTS="$artifacts/python" \
      "$VENV/bin/python" -m pytest -c python/pytest.ini --junitxml="$artifacts/python-junit.xml" \
      ${pytest_args[@]+"${pytest_args[@]}"} python); then
      failed=1
      printf 'FAILED: [%s] python suite (SCIM request traces, if any, in %s)\n' "$backend" "$artifacts/python" >&2
    fi
  fi
  unset E2E_ISSUER E2E_ADMIN_TOKEN E2E_RUN_ID E2E_MAILDIR E2E_SMSDIR

  stop_server
  stop_sink
  if [ "$failed" -ne 0 ]; then
    cp "$SERVER_LOG" "$artifacts/server.log" 2>/dev/null || true
    cp "$SINK_LOG" "$artifacts/smtp-sink.log" 2>/dev/null || true
    cp "$SMS_SINK_LOG" "$artifacts/sms-sink.log" 2>/dev/null || true
    server_log_tail "$backend"
    printf 'The mails and text messages of this run are in %s and %s\n' "$maildir" "$smsdir" >&2
    return 1
  fi
  # Passed: the mails and text messages (one-time codes of throw-away accounts) are not kept.
  rm -rf "$maildir" "$smsdir"
  return 0
}

declare -a PASSED=() FAILED=() SKIPPED=()
for backend in "${BACKENDS[@]}"; do
  if [ "$backend" = postgres ] && ! postgres_reachable; then
    if [ "${CI:-}" = "true" ] || [ "$BACKEND_EXPLICIT" = yes ]; then
      printf 'ERROR: PostgreSQL is not reachable at %s\n' "$PG_URL" >&2
      FAILED+=("postgres (unreachable)")
      continue
    fi
    banner "SKIPPED: the PostgreSQL half: no server at $PG_URL (set E2E_PG_URL)"
    SKIPPED+=(postgres)
    continue
  fi
  banner "backend: $backend"
  if run_backend "$backend"; then PASSED+=("$backend"); else FAILED+=("$backend"); fi
  cleanup_backend
done

echo
log "passed:  ${PASSED[*]:-none}"
[ "${#SKIPPED[@]}" -eq 0 ] || log "SKIPPED: ${SKIPPED[*]}"
if [ "${#FAILED[@]}" -ne 0 ]; then
  log "FAILED:  ${FAILED[*]}"
  exit 1
fi
