"""Helpers of the Python end-to-end suite.

- Settings from the environment (E2E_ISSUER, E2E_ADMIN_TOKEN, ...).
- The admin API: users and clients, each with a unique name.
- A "browser" made of plain HTTP: a requests.Session that reads the hosted login pages,
  finds fields by their label and buttons by their text (as the Node suite does with
  accessible names), posts the forms with every hidden field (the CSRF token) and follows
  redirects until the relying party's redirect URI, which it does not follow.
- ID token and RFC 9068 access token validation with authlib.jose against the JWKS.

Written against the standards and the contract in ../README.md, not against Tessera's code.
"""

from __future__ import annotations

import base64
import json
import os
import secrets
import socket
from dataclasses import dataclass, field
from html.parser import HTMLParser
from http.cookiejar import DefaultCookiePolicy
from urllib.parse import urljoin, urlsplit

import warnings

import requests
import requests.cookies

import authlib.deprecate  # noqa: F401  (installs its own "always" filter first)

with warnings.catch_warnings():
    # authlib.jose is what this suite is meant to use; in Authlib 1.x it warns that it is
    # deprecated in favour of joserfc (same author) and goes away in Authlib 2.
    warnings.filterwarnings("ignore", message="authlib.jose module is deprecated")
    from authlib.jose import JsonWebKey, JsonWebToken, JWTClaims

LOOPBACK_HOSTS = {"127.0.0.1", "localhost", "::1"}


def _required(name: str) -> str:
    value = os.environ.get(name)
    if not value:
        raise RuntimeError(
            f"{name} is not set. Run tests/e2e/run.sh, or see tests/e2e/README.md "
            "to run this suite against a running server."
        )
    return value


@dataclass(frozen=True)
class Settings:
    issuer: str
    admin_token: str
    timeout: float
    run_id: str

    @classmethod
    def from_env(cls) -> "Settings":
        issuer = _required("E2E_ISSUER").rstrip("/")
        parts = urlsplit(issuer)
        if parts.scheme == "http" and parts.hostname not in LOOPBACK_HOSTS:
            raise RuntimeError(f"E2E_ISSUER {issuer} is plain HTTP on a non-loopback host; refusing.")
        return cls(
            issuer=issuer,
            admin_token=_required("E2E_ADMIN_TOKEN"),
            timeout=float(os.environ.get("E2E_TIMEOUT_MS", "30000")) / 1000.0,
            run_id=os.environ.get("E2E_RUN_ID") or secrets.token_hex(4),
        )


# ---------------------------------------------------------------------------------------------
# Admin API


@dataclass(frozen=True)
class User:
    id: str
    email: str
    password: str
    given_name: str
    family_name: str


@dataclass(frozen=True)
class RegisteredClient:
    client_id: str
    client_secret: str | None
    redirect_uri: str | None
    metadata: dict


class AdminApi:
    def __init__(self, settings: Settings):
        self.settings = settings
        self.counter = 0
        self.http = requests.Session()
        self.http.headers["Authorization"] = f"Bearer {settings.admin_token}"
        self.http.headers["Accept"] = "application/json"

    def unique(self, prefix: str) -> str:
        self.counter += 1
        return f"{prefix}-{self.settings.run_id}-{self.counter}"

    def _post(self, path: str, body: dict) -> dict:
        response = self.http.post(f"{self.settings.issuer}{path}", json=body, timeout=self.settings.timeout)
        if response.status_code != 201:
            raise AssertionError(
                f"POST {path} answered {response.status_code}, expected 201: {response.text[:2000]}"
            )
        return response.json()

    def create_user(self, label: str = "alice") -> User:
        email = f"{self.unique(label + '.py')}@example.com".lower()
        # The password is the only factor: a long passphrase (at least 15 characters).
        password = f"e2e passphrase {secrets.token_urlsafe(18)}"
        body = {
            "email": email,
            "given_name": "Alice",
            "family_name": "Liddell",
            "password": password,
        }
        created = self._post("/admin/v1/users", body)
        return User(created["id"], email, password, body["given_name"], body["family_name"])

    def register_client(self, metadata: dict) -> RegisteredClient:
        metadata = dict(metadata)
        metadata["client_name"] = f"{metadata['client_name']} {self.settings.run_id}"
        created = self._post("/admin/v1/clients", metadata)
        assert isinstance(created.get("client_id"), str) and created["client_id"], created
        if metadata.get("token_endpoint_auth_method") != "none":
            assert isinstance(created.get("client_secret"), str) and created["client_secret"], (
                "the RFC 7591 response of a confidential client has a client_secret"
            )
        redirect_uris = metadata.get("redirect_uris") or [None]
        return RegisteredClient(created["client_id"], created.get("client_secret"), redirect_uris[0], created)

    def register_web_client(
        self, name: str, *, auth: str = "client_secret_basic", first_party: bool = True, extra: dict | None = None
    ) -> RegisteredClient:
        """A client of the code flow. Its redirect URI is on a free loopback port; nothing
        listens there, since the HTTP driver stops at the redirect and never follows it."""
        port = free_port()
        return self.register_client(
            {
                "client_name": name,
                "redirect_uris": [f"http://127.0.0.1:{port}/callback"],
                "post_logout_redirect_uris": [f"http://127.0.0.1:{port}/logged-out"],
                "grant_types": ["authorization_code", "refresh_token"],
                "token_endpoint_auth_method": auth,
                "scope": "openid profile email offline_access",
                "first_party": first_party,
                **(extra or {}),
            }
        )


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


# ---------------------------------------------------------------------------------------------
# The hosted pages, over plain HTTP


class LoopbackSecureCookiePolicy(DefaultCookiePolicy):
    """Sends `Secure` cookies (and so `__Host-` cookies) to http://127.0.0.1, as browsers do:
    loopback is a secure context. http.cookiejar otherwise sends them only over https."""

    def return_ok_secure(self, cookie, request):
        if cookie.secure and urlsplit(request.get_full_url()).hostname in LOOPBACK_HOSTS:
            return True
        return super().return_ok_secure(cookie, request)


class _BrowserSession(requests.Session):
    """requests copies the session's cookies into a fresh jar with the default policy for every
    request; this recomputes the Cookie header from the session's own jar and policy."""

    def prepare_request(self, request):
        prepared = super().prepare_request(request)
        prepared.headers.pop("Cookie", None)
        header = requests.cookies.get_cookie_header(self.cookies, prepared)
        if header:
            prepared.headers["Cookie"] = header
        return prepared


def browser_session() -> requests.Session:
    """A cookie-keeping HTTP client that behaves like a browser for the hosted pages. Use it
    with allow_redirects=False (sign_in_over_http does): requests' own redirect handling
    would not send Secure cookies to http://127.0.0.1."""
    session = _BrowserSession()
    session.cookies.set_policy(LoopbackSecureCookiePolicy())
    session.headers["Accept"] = "text/html,application/xhtml+xml"
    session.headers["Accept-Language"] = "en-US,en;q=0.8"
    return session


def get_following_redirects(session: requests.Session, url: str, *, timeout: float, max_redirects: int = 10):
    """GET `url` and follow redirects one by one through `session` (so that its cookie policy
    applies to every hop)."""
    for _ in range(max_redirects + 1):
        response = session.get(url, allow_redirects=False, timeout=timeout)
        if not response.is_redirect:
            return response
        url = urljoin(response.url, response.headers["Location"])
    raise HostedPageError(f"more than {max_redirects} redirects")


@dataclass
class Form:
    action: str
    method: str
    fields: list = field(default_factory=list)  # [name, value, type, id]
    buttons: list = field(default_factory=list)  # (name, value, text)


@dataclass
class Page:
    url: str
    title: str
    forms: list
    labels: dict  # label text -> input id (explicit) or (form index, field index) (implicit)

    def describe(self) -> str:
        buttons = [b[2] for f in self.forms for b in f.buttons]
        return f"page {self.url!r} titled {self.title!r} with labels {sorted(self.labels)} and buttons {buttons}"

    def find_field(self, label: str):
        """(form, field) for the input labelled `label` (exact text, whitespace collapsed)."""
        target = self.labels.get(label)
        if target is None:
            return None
        for form in self.forms:
            for f in form.fields:
                if (isinstance(target, str) and f[3] == target) or target is f:
                    return form, f
        return None

    def find_button(self, text: str):
        for form in self.forms:
            for button in form.buttons:
                if button[2] == text:
                    return form, button
        return None


class _PageParser(HTMLParser):
    """Just enough HTML to find forms, their fields, labels and submit buttons."""

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.forms: list[Form] = []
        self.labels: dict = {}
        self.title = ""
        self._form: Form | None = None
        self._label: dict | None = None  # {"for": id|None, "text": [...], "field": field|None}
        self._button: list | None = None  # [name, value, [text]]
        self._in_title = False
        self._hidden_depth = 0  # inside aria-hidden="true": not part of accessible names
        self._stack: list[str] = []

    def handle_starttag(self, tag, attrs):
        a = {k: (v if v is not None else "") for k, v in attrs}
        void = tag in VOID_ELEMENTS
        if not void:
            self._stack.append(tag)
            if a.get("aria-hidden") == "true" or self._hidden_depth:
                self._hidden_depth += 1
        if tag == "title":
            self._in_title = True
        elif tag == "form":
            self._form = Form(action=a.get("action", ""), method=(a.get("method") or "get").lower())
            self.forms.append(self._form)
        elif tag == "label":
            self._label = {"for": a.get("for"), "text": [], "field": None}
        elif tag == "input" and self._form is not None:
            kind = (a.get("type") or "text").lower()
            if kind in {"submit", "image"}:
                self._form.buttons.append((a.get("name"), a.get("value", ""), a.get("value", "Submit")))
            elif kind in {"checkbox", "radio"} and "checked" not in a:
                pass
            elif kind not in {"button", "reset", "file"}:
                f = [a.get("name"), a.get("value", ""), kind, a.get("id")]
                self._form.fields.append(f)
                if a.get("aria-label"):
                    self.labels.setdefault(_collapse(a["aria-label"]), f)
                if self._label is not None and self._label["for"] is None:
                    self._label["field"] = f
        elif tag == "button" and self._form is not None:
            if (a.get("type") or "submit").lower() == "submit":
                self._button = [a.get("name"), a.get("value", ""), [], a.get("aria-label")]

    def handle_endtag(self, tag):
        if tag in self._stack:
            while self._stack:
                closed = self._stack.pop()
                if self._hidden_depth:
                    self._hidden_depth -= 1
                if closed == tag:
                    break
        if tag == "title":
            self._in_title = False
        elif tag == "form":
            self._form = None
        elif tag == "label" and self._label is not None:
            text = _collapse("".join(self._label["text"]))
            target = self._label["for"] or self._label["field"]
            if text and target is not None:
                self.labels.setdefault(text, target)
            self._label = None
        elif tag == "button" and self._button is not None and self._form is not None:
            name, value, text, aria = self._button
            self._form.buttons.append((name, value, _collapse(aria or "".join(text))))
            self._button = None

    def handle_data(self, data):
        if self._in_title:
            self.title += data
        if self._hidden_depth:
            return
        if self._label is not None:
            self._label["text"].append(data)
        if self._button is not None:
            self._button[2].append(data)


VOID_ELEMENTS = {
    "area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "source", "track", "wbr",
}


def _collapse(text: str) -> str:
    return " ".join(text.split())


def parse_page(html: str, url: str) -> Page:
    parser = _PageParser()
    parser.feed(html)
    parser.close()
    return Page(url=url, title=_collapse(parser.title), forms=parser.forms, labels=parser.labels)


class HostedPageError(AssertionError):
    pass


EN = {"email": "Email", "continue": "Continue", "password": "Password", "sign_in": "Sign in"}
DE = {"email": "E-Mail", "continue": "Weiter", "password": "Passwort", "sign_in": "Anmelden"}


def _submission(page: Page, form: Form, button, fill: dict):
    data = []
    for f in form.fields:
        name, value = f[0], f[1]
        if not name:
            continue
        data.append((name, fill.get(id(f), value)))
    if button is not None and button[0]:
        data.append((button[0], button[1]))
    action = urljoin(page.url, form.action or page.url)
    return form.method.upper(), action, data


def sign_in_over_http(
    session: requests.Session,
    authorize_url: str,
    redirect_uri: str,
    user: User | None,
    *,
    timeout: float,
    consent: str = "none",
    labels: dict = EN,
    max_steps: int = 20,
) -> str:
    """Walks from the authorization URL through the hosted pages to the redirect to
    `redirect_uri`, and returns that redirect's URL without following it.

    `user` None means: no login page is expected (an existing session).
    `consent`: "none" (a consent page is a failure), "allow" or "deny".
    """
    method, url, data, origin = "GET", authorize_url, None, None
    for _ in range(max_steps):
        # A browser sends Origin with a form POST (or "null" under Referrer-Policy: no-referrer).
        headers = {"Origin": origin} if method == "POST" and origin else {}
        response = session.request(method, url, data=data, headers=headers, allow_redirects=False, timeout=timeout)
        if response.is_redirect:
            location = urljoin(response.url, response.headers["Location"])
            if location.split("?", 1)[0].split("#", 1)[0] == redirect_uri:
                return location
            if response.status_code not in (307, 308):
                method, data = "GET", None
            url = location
            continue
        if response.status_code != 200 or "html" not in response.headers.get("Content-Type", ""):
            raise HostedPageError(
                f"{method} {_redact(url)} answered {response.status_code} "
                f"({response.headers.get('Content-Type')}): {response.text[:1000]}"
            )
        page = parse_page(response.text, response.url)
        page_url = urlsplit(page.url)
        origin = f"{page_url.scheme}://{page_url.netloc}"

        password = page.find_field(labels["password"])
        email = page.find_field(labels["email"])
        if password is not None or email is not None:
            if user is None:
                raise HostedPageError(f"a login page was shown, though the session should be signed in: {page.describe()}")
            form, f = password or email
            button_text = labels["sign_in"] if password is not None else labels["continue"]
            found = page.find_button(button_text)
            if found is None or found[0] is not form:
                raise HostedPageError(f"no button {button_text!r} in the login form: {page.describe()}")
            fill = {id(f): user.password if password is not None else user.email}
            if password is not None and email is not None and email[0] is form and email[1][2] != "hidden":
                fill[id(email[1])] = user.email
            method, url, data = _submission(page, form, found[1], fill)
            continue

        allow = page.find_button("Allow")
        if allow is not None:
            if consent == "none":
                raise HostedPageError(f"a consent page was shown for a first-party client: {page.describe()}")
            found = page.find_button("Allow" if consent == "allow" else "Deny")
            if found is None:
                raise HostedPageError(f"no {consent!r} button on the consent page: {page.describe()}")
            method, url, data = _submission(page, found[0], found[1], {})
            continue

        raise HostedPageError(f"unexpected {page.describe()}")
    raise HostedPageError(f"no redirect to {redirect_uri} after {max_steps} steps")


def _redact(url: str) -> str:
    return url.split("?", 1)[0] + ("?…" if "?" in url else "")


# ---------------------------------------------------------------------------------------------
# JOSE


# Asymmetric algorithms only; never "none" or HS* (a token "signed" with our public key as an
# HMAC secret must not verify).
ASYMMETRIC_ALGS = ["RS256", "RS384", "RS512", "PS256", "PS384", "PS512", "ES256", "ES384", "EdDSA"]


def load_jwks(jwks_uri: str, timeout: float):
    response = requests.get(jwks_uri, timeout=timeout)
    assert response.status_code == 200, response.text
    return JsonWebKey.import_key_set(response.json())


def unverified_header(token: str) -> dict:
    parts = token.split(".")
    assert len(parts) == 3, f"not a JWS in compact serialization ({len(parts)} part(s)): an opaque token?"
    try:
        return json.loads(base64.urlsafe_b64decode(parts[0] + "=" * (-len(parts[0]) % 4)))
    except ValueError as error:
        raise AssertionError(f"the JWS header does not decode: {error}") from error


def validate_id_token(id_token: str, jwks, *, issuer: str, client_id: str, nonce: str, leeway: int = 60) -> JWTClaims:
    """Signature (RS256, key by kid from the JWKS), iss, aud, exp, iat, nonce, azp."""
    header = unverified_header(id_token)
    assert header.get("alg") == "RS256", f"ID tokens are RS256 by default, got {header.get('alg')}"
    claims = JsonWebToken(["RS256"]).decode(
        id_token,
        jwks,
        claims_options={
            "iss": {"essential": True, "value": issuer},
            "aud": {"essential": True, "value": client_id},
            "sub": {"essential": True},
            "exp": {"essential": True},
            "iat": {"essential": True},
            "nonce": {"essential": True, "value": nonce},
        },
    )
    claims.validate(leeway=leeway)
    audiences = claims["aud"] if isinstance(claims["aud"], list) else [claims["aud"]]
    if len(audiences) > 1 or "azp" in claims:
        assert claims.get("azp") == client_id, "azp names the client when there are several audiences"
    return claims


def validate_access_token(access_token: str, jwks, *, issuer: str, client_id: str, leeway: int = 60) -> JWTClaims:
    """RFC 9068: a JWT with typ at+jwt, signed with an asymmetric key of the JWKS, with iss,
    exp, aud, sub, client_id, iat and jti."""
    header = unverified_header(access_token)
    assert header.get("typ", "").lower() in ("at+jwt", "application/at+jwt"), f"typ header: {header}"
    assert header.get("alg") in ASYMMETRIC_ALGS, f"alg header: {header}"
    claims = JsonWebToken(ASYMMETRIC_ALGS).decode(
        access_token,
        jwks,
        claims_options={
            "iss": {"essential": True, "value": issuer},
            "exp": {"essential": True},
            "aud": {"essential": True},
            "sub": {"essential": True},
            "client_id": {"essential": True, "value": client_id},
            "iat": {"essential": True},
            "jti": {"essential": True},
        },
    )
    claims.validate(leeway=leeway)
    return claims
