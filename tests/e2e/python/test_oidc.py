"""Tessera end to end with Authlib as the relying party, and the hosted pages driven over plain
HTTP (see support.sign_in_over_http). Needs E2E_ISSUER and E2E_ADMIN_TOKEN; see ../README.md.
"""

from __future__ import annotations

import base64
import hashlib
from dataclasses import dataclass
from urllib.parse import parse_qs, urlsplit

import pytest
import requests
from authlib.common.security import generate_token
from authlib.integrations.requests_client import OAuth2Session
from requests.structures import CaseInsensitiveDict

from support import (
    HostedPageError,
    browser_session,
    get_following_redirects,
    sign_in_over_http,
    validate_access_token,
    validate_id_token,
)

SCOPE = "openid profile email offline_access"


@dataclass
class Flow:
    oauth: OAuth2Session
    token: dict
    callback: str
    state: str
    nonce: str
    code_verifier: str
    token_response_headers: CaseInsensitiveDict


def oauth_session(settings, client, *, auth="client_secret_basic", scope=SCOPE) -> OAuth2Session:
    return OAuth2Session(
        client.client_id,
        client.client_secret,
        scope=scope,
        redirect_uri=client.redirect_uri,
        code_challenge_method="S256",
        token_endpoint_auth_method=auth,
        revocation_endpoint_auth_method=auth,
        default_timeout=settings.timeout,
    )


def code_flow(settings, metadata, client, user, *, scope=SCOPE) -> Flow:
    """Authorization code flow with PKCE S256, state and nonce, through the hosted pages."""
    oauth = oauth_session(settings, client, scope=scope)
    captured = {}

    def capture(response):
        captured["headers"] = response.headers
        return response

    oauth.register_compliance_hook("access_token_response", capture)
    code_verifier = generate_token(64)
    nonce = generate_token(32)
    url, state = oauth.create_authorization_url(
        metadata["authorization_endpoint"], code_verifier=code_verifier, nonce=nonce
    )
    callback = sign_in_over_http(browser_session(), url, client.redirect_uri, user, timeout=settings.timeout)

    params = parse_qs(urlsplit(callback).query)
    assert "error" not in params, params
    assert params.get("state") == [state]
    assert params.get("iss") == [metadata["issuer"]], "RFC 9207: iss in the authorization response"
    assert params.get("code"), params

    # Authlib checks state again and sends code_verifier and redirect_uri.
    token = oauth.fetch_token(
        metadata["token_endpoint"], authorization_response=callback, state=state, code_verifier=code_verifier
    )
    return Flow(oauth, token, callback, state, nonce, code_verifier, captured["headers"])


def token_error(response: requests.Response) -> str:
    assert response.headers.get("Content-Type", "").startswith("application/json"), response.text
    return response.json().get("error")


@pytest.fixture(scope="module")
def web_flow(settings, metadata, admin, user):
    """One signed-in confidential client, for the tests that only read its tokens."""
    client = admin.register_web_client("Python RP")
    return client, code_flow(settings, metadata, client, user)


# ---------------------------------------------------------------------------------------------


def test_code_flow_with_pkce_returns_a_valid_id_token(settings, metadata, jwks, user, web_flow):
    client, flow = web_flow
    token = flow.token
    assert token["token_type"].lower() == "bearer"
    assert token.get("access_token")
    assert token.get("refresh_token"), "offline_access + refresh_token grant: a refresh token"
    assert "no-store" in flow.token_response_headers.get("Cache-Control", ""), "RFC 6749 5.1: no-store"

    claims = validate_id_token(
        token["id_token"], jwks, issuer=metadata["issuer"], client_id=client.client_id, nonce=flow.nonce
    )
    assert claims["email"] == user.email
    assert claims["given_name"] == user.given_name
    assert claims["family_name"] == user.family_name
    if "at_hash" in claims:
        digest = hashlib.sha256(token["access_token"].encode()).digest()
        expected = base64.urlsafe_b64encode(digest[:16]).rstrip(b"=").decode()
        assert claims["at_hash"] == expected


def test_userinfo_returns_the_profile_of_the_id_token_subject(settings, metadata, jwks, user, web_flow):
    client, flow = web_flow
    claims = validate_id_token(
        flow.token["id_token"], jwks, issuer=metadata["issuer"], client_id=client.client_id, nonce=flow.nonce
    )
    response = flow.oauth.get(metadata["userinfo_endpoint"])
    assert response.status_code == 200, response.text
    info = response.json()
    assert info["sub"] == claims["sub"]
    assert info["email"] == user.email
    assert info["given_name"] == user.given_name

    anonymous = requests.get(metadata["userinfo_endpoint"], timeout=settings.timeout)
    assert anonymous.status_code == 401
    assert anonymous.headers.get("WWW-Authenticate", "").lower().startswith("bearer")


def test_access_token_is_an_rfc9068_jwt_verifiable_with_the_jwks(metadata, jwks, web_flow):
    client, flow = web_flow
    claims = validate_access_token(
        flow.token["access_token"], jwks, issuer=metadata["issuer"], client_id=client.client_id
    )
    id_claims = validate_id_token(
        flow.token["id_token"], jwks, issuer=metadata["issuer"], client_id=client.client_id, nonce=flow.nonce
    )
    assert claims["sub"] == id_claims["sub"]


def test_refresh_rotates_and_the_old_refresh_token_is_refused(settings, metadata, admin, user):
    client = admin.register_web_client("Python RP refresh")
    flow = code_flow(settings, metadata, client, user)
    old = flow.token["refresh_token"]

    new = flow.oauth.refresh_token(metadata["token_endpoint"], refresh_token=old)
    assert new.get("access_token") and new["access_token"] != flow.token["access_token"]
    assert new.get("refresh_token") and new["refresh_token"] != old, "the refresh token is rotated"

    again = requests.post(
        metadata["token_endpoint"],
        data={"grant_type": "refresh_token", "refresh_token": old},
        auth=(client.client_id, client.client_secret),
        timeout=settings.timeout,
    )
    assert again.status_code == 400, again.text
    assert token_error(again) == "invalid_grant"


def test_introspection_and_revocation(settings, metadata, admin, user):
    client = admin.register_web_client("Python RP introspect")
    flow = code_flow(settings, metadata, client, user)
    access, refresh = flow.token["access_token"], flow.token["refresh_token"]
    endpoint = metadata["introspection_endpoint"]

    info = flow.oauth.introspect_token(endpoint, token=access, token_type_hint="access_token")
    assert info.status_code == 200, info.text
    body = info.json()
    assert body["active"] is True
    assert body.get("client_id", client.client_id) == client.client_id
    assert body.get("sub")

    info = flow.oauth.introspect_token(endpoint, token=refresh, token_type_hint="refresh_token")
    assert info.status_code == 200 and info.json()["active"] is True

    # RFC 7662 2.1: the introspection endpoint needs client authentication (no credentials:
    # invalid_client 401, or invalid_request 400 as some servers answer).
    anonymous = requests.post(endpoint, data={"token": access}, timeout=settings.timeout)
    assert anonymous.status_code in (400, 401), anonymous.text
    assert "active" not in anonymous.text

    revoked = flow.oauth.revoke_token(metadata["revocation_endpoint"], token=refresh, token_type_hint="refresh_token")
    assert revoked.status_code == 200, revoked.text

    info = flow.oauth.introspect_token(endpoint, token=refresh, token_type_hint="refresh_token")
    assert info.status_code == 200 and info.json()["active"] is False, info.text

    refused = requests.post(
        metadata["token_endpoint"],
        data={"grant_type": "refresh_token", "refresh_token": refresh},
        auth=(client.client_id, client.client_secret),
        timeout=settings.timeout,
    )
    assert refused.status_code == 400 and token_error(refused) == "invalid_grant", refused.text

    # RFC 7009 2.2: revoking an unknown or already revoked token is answered 200 too.
    again = flow.oauth.revoke_token(metadata["revocation_endpoint"], token=refresh, token_type_hint="refresh_token")
    assert again.status_code == 200, again.text


def test_authorization_code_is_single_use(settings, metadata, admin, user):
    client = admin.register_web_client("Python RP code replay")
    flow = code_flow(settings, metadata, client, user)
    code = parse_qs(urlsplit(flow.callback).query)["code"][0]

    # The same request again, correct verifier included: a replay, not a PKCE failure.
    replay = requests.post(
        metadata["token_endpoint"],
        data={"grant_type": "authorization_code", "code": code, "redirect_uri": client.redirect_uri,
              "code_verifier": flow.code_verifier},
        auth=(client.client_id, client.client_secret),
        timeout=settings.timeout,
    )
    assert replay.status_code == 400, replay.text
    assert token_error(replay) == "invalid_grant"

    # SECURITY A13: a replayed code revokes what its first use issued.
    info = flow.oauth.introspect_token(
        metadata["introspection_endpoint"], token=flow.token["access_token"], token_type_hint="access_token"
    )
    assert info.status_code == 200 and info.json()["active"] is False, info.text


def test_token_endpoint_refuses_a_wrong_client_secret(settings, metadata, admin):
    client = admin.register_web_client("Python RP wrong secret")
    response = requests.post(
        metadata["token_endpoint"],
        data={"grant_type": "authorization_code", "code": "not-a-code", "redirect_uri": client.redirect_uri,
              "code_verifier": "x" * 64},
        auth=(client.client_id, "not-the-secret"),
        timeout=settings.timeout,
    )
    # RFC 6749 5.2: invalid_client, and 401 when the client used the Authorization header.
    assert response.status_code == 401, response.text
    assert token_error(response) == "invalid_client"


def test_client_credentials_grant_for_a_machine_client(settings, metadata, jwks, admin):
    machine = admin.register_client(
        {
            "client_name": "Python machine client",
            "grant_types": ["client_credentials"],
            "token_endpoint_auth_method": "client_secret_post",
        }
    )
    oauth = OAuth2Session(
        machine.client_id,
        machine.client_secret,
        token_endpoint_auth_method="client_secret_post",
        revocation_endpoint_auth_method="client_secret_post",
        default_timeout=settings.timeout,
    )
    token = oauth.fetch_token(metadata["token_endpoint"], grant_type="client_credentials")
    assert token["token_type"].lower() == "bearer"
    assert "refresh_token" not in token, "RFC 6749 4.4.3: no refresh token for client credentials"
    assert "id_token" not in token, "no end-user, no ID token"

    claims = validate_access_token(token["access_token"], jwks, issuer=metadata["issuer"], client_id=machine.client_id)
    assert claims["sub"], "RFC 9068: sub names the client when no user is involved"

    info = oauth.introspect_token(metadata["introspection_endpoint"], token=token["access_token"])
    assert info.status_code == 200, info.text
    assert info.json()["active"] is True
    assert info.json().get("client_id", machine.client_id) == machine.client_id


def test_hosted_login_page_security_headers(settings, metadata, admin):
    """SECURITY A20 on the first hosted page, and its cookies (no user needed). The `__Host-`
    prefix and Secure are checked only when the issuer is https."""
    client = admin.register_web_client("Python RP headers")
    oauth = oauth_session(settings, client)
    url, _ = oauth.create_authorization_url(
        metadata["authorization_endpoint"], code_verifier=generate_token(64), nonce=generate_token(32)
    )
    session = browser_session()
    response = get_following_redirects(session, url, timeout=settings.timeout)
    assert response.status_code == 200, response.text
    assert "html" in response.headers.get("Content-Type", "")
    headers = response.headers
    assert "frame-ancestors 'none'" in headers.get("Content-Security-Policy", ""), headers
    assert headers.get("X-Content-Type-Options", "").lower() == "nosniff"
    assert headers.get("Referrer-Policy", "").lower() == "no-referrer"
    assert "no-store" in headers.get("Cache-Control", "")
    over_tls = metadata["issuer"].startswith("https://")
    for cookie in session.cookies:
        attributes = {key.lower(): value for key, value in cookie.__dict__["_rest"].items()}
        assert "httponly" in attributes, f"cookie {cookie.name} is HttpOnly"
        assert (attributes.get("samesite") or "").lower() in ("lax", "strict"), f"cookie {cookie.name}: SameSite"
        assert not cookie.domain_specified, f"cookie {cookie.name} names no Domain"
        if over_tls:
            # __Host- needs Secure; over plain http (these tests) the prefix is optional.
            assert cookie.name.startswith("__Host-"), f"cookie {cookie.name} has the __Host- prefix"
            assert cookie.secure and cookie.path == "/", f"cookie {cookie.name}: __Host- rules"


def test_a_fresh_session_gets_the_login_page(settings, metadata, admin):
    """Without a session the authorization request shows the login page (the HTTP driver, given
    no user, reports it as a failure naming the page)."""
    client = admin.register_web_client("Python RP driver")
    oauth = oauth_session(settings, client)
    url, _ = oauth.create_authorization_url(
        metadata["authorization_endpoint"], code_verifier=generate_token(64), nonce=generate_token(32)
    )
    with pytest.raises(HostedPageError, match="login page was shown"):
        sign_in_over_http(browser_session(), url, client.redirect_uri, None, timeout=settings.timeout)
