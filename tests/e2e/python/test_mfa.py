"""Two-factor sign-in end to end: Authlib as the relying party of a client that needs two
factors (`minimum_acr`), the hosted pages over plain HTTP, and pyotp as the authenticator
app: it reads Tessera's otpauth:// URI and computes the codes. Checks enrolment, the
recovery codes, acr/amr in the ID token, that a code works once (A41) and that a recovery
code stands in for a lost phone."""

from __future__ import annotations

import html
import re
import time
from urllib.parse import parse_qs, urljoin, urlsplit

import pyotp
from authlib.common.security import generate_token

from support import (
    EN,
    HostedPageError,
    _submission,
    browser_session,
    parse_page,
    validate_id_token,
)
from test_oidc import oauth_session

ACR_TWO_FACTORS = "urn:tessera:loa:2"


def walk(session, url, user, redirect_uri, timeout, *, second_factor):
    """From the authorization URL to the redirect to the client. `second_factor(page, text)`
    answers the second-factor pages: it returns (form, button, fill) or a URL to GET."""
    method, data, origin = "GET", None, None
    for _ in range(20):
        headers = {"Origin": origin} if method == "POST" and origin else {}
        response = session.request(method, url, data=data, headers=headers, allow_redirects=False, timeout=timeout)
        if response.is_redirect:
            location = urljoin(response.url, response.headers["Location"])
            if location.split("?", 1)[0] == redirect_uri:
                return location
            method, data, url = "GET", None, location
            continue
        assert response.status_code in (200, 400), f"{response.status_code}: {response.text[:1000]}"
        page = parse_page(response.text, response.url)
        parts = urlsplit(page.url)
        origin = f"{parts.scheme}://{parts.netloc}"
        password = page.find_field(EN["password"])
        email = page.find_field(EN["email"])
        if password is not None or email is not None:
            form, field = password or email
            button = page.find_button(EN["sign_in"] if password is not None else EN["continue"])
            fill = {id(field): user.password if password is not None else user.email}
            method, url, data = _submission(page, form, button[1], fill)
            continue
        answer = second_factor(page, response.text)
        if isinstance(answer, str):
            method, data, url = "GET", None, urljoin(page.url, answer)
            continue
        form, button, fill = answer
        method, url, data = _submission(page, form, button, fill)
    raise HostedPageError("no redirect to the client after 20 steps")


def code_form(page, label):
    found = page.find_field(label)
    assert found is not None, page.describe()
    form, field = found
    return form, form.buttons[0] if form.buttons else None, field


class App:
    """pyotp as the user's authenticator app, fed from the enrolment page."""

    def __init__(self):
        self.totp = None
        self.recovery_codes = []
        self.used_steps = set()

    def enrol(self, text):
        uri = html.unescape(re.search(r'<a class="otpauth" href="([^"]+)"', text).group(1))
        self.totp = pyotp.parse_uri(uri)
        assert isinstance(self.totp, pyotp.TOTP), uri
        assert self.totp.digits == 6 and self.totp.interval == 30
        shown = re.search(r'<code class="secret"[^>]*>([^<]+)</code>', text).group(1)
        assert shown.replace(" ", "") == self.totp.secret, "the key as text is the key in the URI"
        assert "<svg" in text, "the QR code is inline SVG"

    def fresh_code(self):
        """A code of a step this app has not used yet (each step works once)."""
        now = time.time()
        for offset in (0, 30, 60):
            step = int((now + offset) // 30)
            if step not in self.used_steps:
                self.used_steps.add(step)
                return self.totp.at(now + offset)
        raise AssertionError("no unused step")


def answer_with_app(app, *, use_recovery=False, replay=None):
    def answer(page, text):
        if "Save your recovery codes" in page.title or "Save your recovery codes" in text:
            app.recovery_codes = re.findall(r"<li><code>([^<]+)</code></li>", text)
            link = re.search(r'<a class="button" href="([^"]+)"', text).group(1)
            return html.unescape(link)
        if page.find_button("Turn on two-step verification") is not None:
            app.enrol(text)
            form, button, field = code_form(page, "Code from the app")
            return form, button, {id(field): app.fresh_code()}
        if use_recovery and page.find_field("Recovery code") is None:
            return urljoin(page.url, html.unescape(re.search(r'href="([^"]*method=recovery[^"]*)"', text).group(1)))
        if page.find_field("Recovery code") is not None:
            form, button, field = code_form(page, "Recovery code")
            return form, button, {id(field): app.recovery_codes.pop(0)}
        form, button, field = code_form(page, "Code from the app")
        if replay is not None and not replay.get("done"):
            replay["done"] = True
            assert 'role="alert"' not in text
            return form, button, {id(field): replay["code"]}
        if replay is not None:
            assert 'role="alert"' in text, "the replayed code was refused with a message"
            replay["refused"] = True
        return form, button, {id(field): app.fresh_code()}

    return answer


def sign_in(settings, metadata, jwks, client, user, answer):
    oauth = oauth_session(settings, client)
    verifier = generate_token(64)
    nonce = generate_token(32)
    url, state = oauth.create_authorization_url(
        metadata["authorization_endpoint"], code_verifier=verifier, nonce=nonce
    )
    callback = walk(browser_session(), url, user, client.redirect_uri, settings.timeout, second_factor=answer)
    params = parse_qs(urlsplit(callback).query)
    assert "error" not in params, params
    token = oauth.fetch_token(
        metadata["token_endpoint"], authorization_response=callback, state=state, code_verifier=verifier
    )
    return validate_id_token(
        token["id_token"], jwks, issuer=metadata["issuer"], client_id=client.client_id, nonce=nonce
    )


def test_a_client_that_needs_two_factors_enrols_pyotp_and_accepts_each_code_once(settings, metadata, jwks, admin):
    client = admin.register_web_client("MFA RP", extra={"minimum_acr": ACR_TWO_FACTORS})
    assert client.metadata["minimum_acr"] == ACR_TWO_FACTORS
    user = admin.create_user("mfa")
    app = App()

    claims = sign_in(settings, metadata, jwks, client, user, answer_with_app(app))
    assert claims["acr"] == ACR_TWO_FACTORS
    assert claims["amr"] == ["pwd", "otp", "mfa"]
    assert len(app.recovery_codes) == 10

    # The next sign-in asks for a code, and the first code of it is the one used before.
    last = app.totp.at(max(app.used_steps) * 30)
    replay = {"code": last}
    claims = sign_in(settings, metadata, jwks, client, user, answer_with_app(app, replay=replay))
    assert replay.get("refused"), "a code already used was refused (A41)"
    assert claims["acr"] == ACR_TWO_FACTORS

    # A lost phone: a recovery code, once.
    claims = sign_in(settings, metadata, jwks, client, user, answer_with_app(app, use_recovery=True))
    assert claims["amr"] == ["pwd", "otp", "mfa"]
    security = admin.http.get(
        f"{settings.issuer}/admin/v1/users/{user.id}/security", timeout=settings.timeout
    ).json()
    assert security["recovery_codes_left"] == 9, security
    assert [f["kind"] for f in security["factors"]] == ["totp"]

