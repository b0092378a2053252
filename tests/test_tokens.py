"""Access token checks (the accounts work extends this table)."""

import time

import jwt
import pytest

from server.errors import AuthExpired, Unauthorized
from server.services.tokens import TokenService

SECRET = "k" * 64
tokens = TokenService(SECRET, "feltsync", 900)


def forge(claims=None, key=SECRET, alg="HS256", drop=()):
    now = int(time.time())
    body = {"sub": "7", "did": "d", "typ": "access", "aud": "feltsync", "iat": now, "nbf": now,
            "exp": now + 60, "jti": "j"}
    body.update(claims or {})
    for name in drop:
        body.pop(name)
    return jwt.encode(body, key, algorithm=alg)


def test_a_token_it_issued_verifies():
    token, exp = tokens.issue_access(7, "phone")
    claims = tokens.verify_access(token)
    assert (claims.user_id, claims.device_id, claims.expires_at) == (7, "phone", exp)


# Tokens are made when the test runs, not at import: a long suite must not expire them first.
@pytest.mark.parametrize("name, make_token, error", [
    ("alg none", lambda: jwt.encode({"sub": "7"}, None, algorithm="none"), Unauthorized),
    ("wrong algorithm", lambda: forge(alg="HS512"), Unauthorized),
    ("wrong key", lambda: forge(key="z" * 64), Unauthorized),
    ("expired", lambda: forge({"exp": int(time.time()) - 5}), AuthExpired),
    ("not yet valid", lambda: forge({"nbf": int(time.time()) + 300}), Unauthorized),
    ("wrong audience", lambda: forge({"aud": "someone-else"}), Unauthorized),
    ("wrong typ", lambda: forge({"typ": "refresh"}), Unauthorized),
    ("missing jti", lambda: forge(drop=("jti",)), Unauthorized),
    ("missing exp", lambda: forge(drop=("exp",)), Unauthorized),
    ("missing typ", lambda: forge(drop=("typ",)), Unauthorized),
    ("non-numeric sub", lambda: forge({"sub": "admin"}), Unauthorized),
    ("garbage", lambda: "a.b.c", Unauthorized),
    ("not a string", lambda: 12345, Unauthorized),
    ("refresh token used as access", lambda: "Yx3hG7c1x9Jm0bq2QkQpZ2N0b3Jl-a_refresh_token", Unauthorized),
    ("negative sub", lambda: forge({"sub": "-7"}), Unauthorized),
    ("session generation not an integer", lambda: forge({"gen": "0"}), Unauthorized),
    ("missing aud", lambda: forge(drop=("aud",)), Unauthorized),
    ("missing iat", lambda: forge(drop=("iat",)), Unauthorized),
    ("missing sub", lambda: forge(drop=("sub",)), Unauthorized),
    ("oversized", lambda: "a" * 5000, Unauthorized),
])
def test_bad_tokens_are_refused(name, make_token, error):
    token = make_token()
    with pytest.raises(error):
        tokens.verify_access(token)
