-- wrk script of bench/oidc/run.sh: one request, repeated, and one parseable result line.
--
-- Environment:
--   BENCH_BODY  a form body; when set the request is a POST of
--               application/x-www-form-urlencoded (a token request), else a GET
--   BENCH_AUTH  an Authorization header value (for example "Basic base64(id:secret)")
--
-- At the end it prints (on stdout):
--   RESULT rate=<requests/s> requests=<n> errors=<n> non2xx=<n> p50_ms=<ms> p99_ms=<ms>
-- where errors counts connect/read/write errors, timeouts and HTTP statuses ≥ 400.

local body = os.getenv("BENCH_BODY")
local auth = os.getenv("BENCH_AUTH")

if body and body ~= "" then
  wrk.method = "POST"
  wrk.body = body
  wrk.headers["Content-Type"] = "application/x-www-form-urlencoded"
end
if auth and auth ~= "" then
  wrk.headers["Authorization"] = auth
end

function done(summary, latency, requests)
  local e = summary.errors
  local errors = e.connect + e.read + e.write + e.status + e.timeout
  io.write(string.format(
    "RESULT rate=%.1f requests=%d errors=%d non2xx=%d p50_ms=%.2f p99_ms=%.2f\n",
    summary.requests / (summary.duration / 1e6), summary.requests, errors, e.status,
    latency:percentile(50) / 1000, latency:percentile(99) / 1000))
end
