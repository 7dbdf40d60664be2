"""Fixtures of the Python end-to-end suite. Every test registers its own clients; users are
created per module. See ../README.md for the environment this needs."""

from __future__ import annotations

import pytest
import requests

from support import AdminApi, Settings, load_jwks


@pytest.fixture(scope="session")
def settings() -> Settings:
    return Settings.from_env()


@pytest.fixture(scope="session")
def metadata(settings) -> dict:
    response = requests.get(f"{settings.issuer}/.well-known/openid-configuration", timeout=settings.timeout)
    assert response.status_code == 200, response.text
    meta = response.json()
    assert meta["issuer"] == settings.issuer
    return meta


@pytest.fixture(scope="session")
def jwks(settings, metadata):
    return load_jwks(metadata["jwks_uri"], settings.timeout)


@pytest.fixture(scope="session")
def admin(settings) -> AdminApi:
    return AdminApi(settings)


@pytest.fixture(scope="module")
def user(admin):
    return admin.create_user("alice")
