"""Tessera's SCIM 2.0 service provider checked by an independent conformance tool:
scim2-tester (python-scim), which drives scim2-client and builds its models from what the
server publishes on /Schemas and /ResourceTypes.

Each run gets its own API token with the `scim` scope, then lets scim2-tester run every check
it has (discovery, CRUD, attributes/excludedAttributes, PATCH add/remove/replace on every
writable attribute, root /.search). Once against the default tenant (`/scim/v2`), once against a
fresh tenant through its path prefix (`/t/<slug>/scim/v2`). Needs E2E_ISSUER and
E2E_ADMIN_TOKEN; see ../README.md.

A check passes when it reports SUCCESS (or COMPLIANT / ACCEPTABLE, which 0.5.2 does not emit).
SKIPPED counts as a failure too, unless the server's ServiceProviderConfig says the feature is
not supported (only `patch.supported: false` makes scim2-tester skip for that reason).
"""

from __future__ import annotations

import json
import os
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

import httpx2
import pytest
import requests
from scim2_client.engines.httpx2 import SyncSCIMClient
from scim2_tester import CheckConfig, CheckResult, Status, check_server
from scim2_tester.checkers import core_schemas_validation
from scim2_tester.utils import CheckContext

PASSING = {Status.SUCCESS, Status.COMPLIANT, Status.ACCEPTABLE}
# The resource types the server must serve; every CRUD and PATCH check runs once per type.
REQUIRED_RESOURCE_TYPES = {"User", "Group"}


@dataclass(frozen=True)
class ScimTarget:
    label: str
    base_url: str
    token: str


# ---------------------------------------------------------------------------------------------
# Admin API: tenants and API tokens


def admin_post(settings, path: str, body: dict) -> dict:
    response = requests.post(
        f"{settings.issuer}{path}",
        json=body,
        headers={"Authorization": f"Bearer {settings.admin_token}", "Accept": "application/json"},
        timeout=settings.timeout,
    )
    assert response.status_code == 201, f"POST {path} answered {response.status_code}: {response.text[:2000]}"
    return response.json()


def create_scim_token(settings, name: str, prefix: str = "") -> str:
    """An API token with only the `scim` scope; the secret is shown once, in the 201 body."""
    created = admin_post(settings, f"{prefix}/admin/v1/api-tokens", {"name": name, "scopes": ["scim"]})
    assert created.get("scopes") == ["scim"], created
    assert isinstance(created.get("secret"), str) and created["secret"], "the 201 body carries the secret"
    return created["secret"]


@pytest.fixture(scope="module")
def default_tenant_target(settings) -> ScimTarget:
    token = create_scim_token(settings, f"scim2-tester {settings.run_id}")
    return ScimTarget("default tenant", f"{settings.issuer}/scim/v2", token)


@pytest.fixture(scope="module")
def tenant_slug(settings) -> str:
    slug = f"scim-{settings.run_id}".lower()
    created = admin_post(settings, "/admin/v1/tenants", {"slug": slug, "display_name": f"SCIM e2e {settings.run_id}"})
    assert created["slug"] == slug, created
    return slug


@pytest.fixture(scope="module")
def prefixed_tenant_target(settings, tenant_slug) -> ScimTarget:
    # The bootstrap (operator) token may administer any tenant through its /t/{slug} prefix; the
    # token created there belongs to that tenant.
    token = create_scim_token(settings, f"scim2-tester {settings.run_id}", prefix=f"/t/{tenant_slug}")
    return ScimTarget(f"tenant {tenant_slug}", f"{settings.issuer}/t/{tenant_slug}/scim/v2", token)


# ---------------------------------------------------------------------------------------------
# Running scim2-tester


class Trace:
    """Every request and response, kept for the report of a failed run."""

    def __init__(self) -> None:
        self.lines: list[str] = []

    def on_response(self, response: httpx2.Response) -> None:
        request = response.request
        response.read()
        body = request.content.decode("utf-8", "replace") if request.content else ""
        headers = "".join(
            f" {name}: {request.headers[name]}" for name in ("content-type", "if-match", "if-none-match") if name in request.headers
        )
        self.lines.append(f">>> {request.method} {request.url}{headers}\n{body}".rstrip())
        etag = response.headers.get("etag")
        self.lines.append(
            f"<<< {response.status_code} {response.headers.get('content-type', '-')}"
            + (f" ETag: {etag}" if etag else "")
            + f"\n{response.text[:20000]}".rstrip()
        )

    def write(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text("\n\n".join(self.lines) + "\n", encoding="utf-8")


def scim_client(target: ScimTarget, timeout: float, trace: Trace) -> SyncSCIMClient:
    http = httpx2.Client(
        base_url=target.base_url,
        headers={"Authorization": f"Bearer {target.token}"},
        timeout=timeout,
        trust_env=False,
        event_hooks={"response": [trace.on_response]},
    )
    return SyncSCIMClient(http)


def run_scim2_tester(client: SyncSCIMClient) -> list[CheckResult]:
    """All of scim2-tester's checks: check_server with no tag or resource-type filter, plus
    core_schemas_validation, which scim2-tester exports but check_server does not call (it
    wants the RFC 7643 §8.7.2 schemas ResourceType, ServiceProviderConfig and Schema listed in
    /Schemas)."""
    results = check_server(client, raise_exceptions=False)
    results += core_schemas_validation(CheckContext(client, CheckConfig()))
    return results


def justified_skip(result: CheckResult, client: SyncSCIMClient) -> bool:
    """A skip the server asked for by saying, truthfully, that it lacks the feature."""
    config = client.provider.config
    if config is None or result.status != Status.SKIPPED:
        return False
    tags = result.tags or set()
    if any(tag.startswith("patch") for tag in tags):
        return bool(config.patch and config.patch.supported is False)
    return False


def describe(result: CheckResult) -> str:
    where = f"[{result.resource_type}] " if result.resource_type else ""
    reason = " ".join((result.reason or "(no reason given)").split())
    text = f"{result.status.name:8} {where}{result.title}: {reason}"
    if result.status != Status.SKIPPED and result.data is not None:
        data = result.data
        if not isinstance(data, str):
            try:
                data = json.dumps(data, default=str)
            except (TypeError, ValueError):
                data = repr(data)
        text += f"\n           data: {data[:600]}"
    return text


def summary_table(results: list[CheckResult]) -> str:
    """One row per check name (and resource type), with how many results of each status."""
    rows: dict[tuple[str, str], Counter] = {}
    for result in results:
        rows.setdefault((result.resource_type or "-", result.title or "?"), Counter())[result.status.name] += 1
    width = max([len(title) for _, title in rows] + [5])
    lines = [f"{'type':6} {'check':{width}}  results", f"{'-' * 6} {'-' * width}  {'-' * 30}"]
    for (resource_type, title), counts in rows.items():
        cells = ", ".join(f"{count} {status}" for status, count in sorted(counts.items()))
        lines.append(f"{resource_type:6} {title:{width}}  {cells}")
    return "\n".join(lines)


def artifacts_dir() -> Path | None:
    value = os.environ.get("E2E_ARTIFACTS")
    return Path(value) if value else None


# ---------------------------------------------------------------------------------------------
# Tests


@pytest.fixture(params=["default", "prefixed"], ids=["default-tenant", "tenant-prefix"])
def target(request) -> ScimTarget:
    name = "default_tenant_target" if request.param == "default" else "prefixed_tenant_target"
    return request.getfixturevalue(name)


def test_scim2_tester(settings, target, capsys):
    trace = Trace()
    client = scim_client(target, settings.timeout, trace)

    # Reachability first, so that a server without SCIM fails with one clear line rather than
    # with thirty identical check failures.
    probe = client.request("GET", "/ServiceProviderConfig")
    assert probe.status_code == 200, (
        f"GET {target.base_url}/ServiceProviderConfig with a `scim` token answered {probe.status_code} "
        f"({probe.headers.get('content-type', 'no content type')}): {probe.text[:500]!r}. "
        "SCIM 2.0 is not served (yet?) there."
    )

    results = run_scim2_tester(client)

    failures = [r for r in results if r.status not in PASSING and not justified_skip(r, client)]
    exercised = {r.resource_type for r in results if r.resource_type}
    missing = REQUIRED_RESOURCE_TYPES - exercised
    table = summary_table(results)
    with capsys.disabled():
        print(f"\n\nscim2-tester against {target.base_url} ({target.label}): {len(results)} results")
        print(table)

    if (failures or missing) and artifacts_dir():
        trace_file = artifacts_dir() / f"scim-{target.label.replace(' ', '-')}-trace.txt"
        trace.write(trace_file)
    else:
        trace_file = None

    problems = [describe(r) for r in failures]
    if missing:
        problems.append(
            f"no CRUD/PATCH checks ran for {sorted(missing)}: /ResourceTypes and /Schemas must publish "
            "them (CRUD checks only run when discovery succeeds)"
        )
    if problems:
        # The table is printed above; the message lists each failed result with its reason.
        pytest.fail(
            f"scim2-tester against {target.base_url}: {len(failures)} of {len(results)} results did not "
            "succeed\n\n" + "\n".join(problems)
            + (f"\n\nrequest/response trace: {trace_file}" if trace_file else ""),
            pytrace=False,
        )


def test_scim_token_of_one_tenant_is_refused_by_another(settings, default_tenant_target, prefixed_tenant_target):
    """The default tenant's `scim` token must not reach the other tenant's SCIM endpoints."""
    response = requests.get(
        f"{prefixed_tenant_target.base_url}/Users",
        headers={"Authorization": f"Bearer {default_tenant_target.token}", "Accept": "application/scim+json"},
        timeout=settings.timeout,
    )
    assert response.status_code in (401, 403, 404), f"{response.status_code}: {response.text[:500]}"


def test_scim_requires_a_token(settings, default_tenant_target):
    response = requests.get(
        f"{default_tenant_target.base_url}/Users", headers={"Accept": "application/scim+json"}, timeout=settings.timeout
    )
    assert response.status_code == 401, f"{response.status_code}: {response.text[:500]}"
