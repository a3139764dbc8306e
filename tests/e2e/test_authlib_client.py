"""An independent OAuth implementation (authlib's own client) gets a token from the real demo process over
HTTP with private_key_jwt, and calls a protected route with it."""

from __future__ import annotations

import json
import time
import warnings
from collections.abc import Iterator
from pathlib import Path

import pytest
from authlib.deprecate import AuthlibDeprecationWarning
from e2e.test_demo import Demo
from joserfc.jwk import ECKey

pytestmark = pytest.mark.e2e

# authlib prefers httpx2 and warns when it falls back to httpx. Its warnings module puts an "always" filter
# first when it is imported, so it is imported above: the filter here must come after that one.
with warnings.catch_warnings():
    warnings.filterwarnings("ignore", category=AuthlibDeprecationWarning)
    from authlib.integrations.httpx_client import OAuth2Client
    from authlib.oauth2.rfc7523 import PrivateKeyJWT


@pytest.fixture
def running_demo(tmp_path: Path) -> Iterator[Demo]:
    demo = Demo(tmp_path / "var")
    try:
        demo.wait_ready()
        yield demo
    finally:
        demo.stop()


def test_authlib_client_credentials_with_private_key_jwt(running_demo: Demo) -> None:
    client_file = json.loads((running_demo.data_dir / "demo/clients/uni-caledonia.ac.uk.json").read_text())
    key = ECKey.import_key(client_file["private_jwk"])
    # authlib's defaults (aud = token endpoint, 3600 s) are exactly what R3 refuses; a conforming client
    # sets aud to the issuer and a short lifetime, as members are told to.
    auth = PrivateKeyJWT(
        token_endpoint=client_file["token_endpoint"],
        claims={"aud": client_file["issuer"], "exp": int(time.time()) + 60},
        headers={"kid": client_file["private_jwk"]["kid"], "typ": "client-authentication+jwt"},
        alg="ES256",
    )
    session = OAuth2Client(
        client_id=client_file["client_id"],
        client_secret=key,
        token_endpoint_auth_method=auth,
        scope="members:read",
    )
    token = session.fetch_token(client_file["token_endpoint"], grant_type="client_credentials")
    assert token["token_type"] == "Bearer"
    assert token["scope"] == "members:read"

    response = session.get(f"{running_demo.base}/v1/members")
    assert response.status_code == 200
    assert len(response.json()["items"]) == 5
    whoami = session.get(f"{running_demo.base}/v1/whoami").json()
    assert whoami["institution"] == "uni-caledonia.ac.uk"

    # The same client with authlib's default audience (the token endpoint URL) is refused (R3).
    default_aud = OAuth2Client(
        client_id=client_file["client_id"],
        client_secret=key,
        token_endpoint_auth_method=PrivateKeyJWT(
            token_endpoint=client_file["token_endpoint"],
            headers={"kid": client_file["private_jwk"]["kid"]},
            alg="ES256",
        ),
    )
    with pytest.raises(Exception, match="invalid_client"):
        default_aud.fetch_token(client_file["token_endpoint"], grant_type="client_credentials")
