"""Session checks beyond the signature: the account exists, the device is not signed out.

The same table of bad bearer tokens is tried on REST (needs the database: a deleted user's
token is well signed and only the session check refuses it).
"""

import time

import jwt
import pytest

from models.accounts import User
from tests.accounts_kit import call, signup


def forge(app, user_id, **claims):
    now = int(time.time())
    body = {"sub": str(user_id), "did": "phone-1", "typ": "access", "aud": "feltsync",
            "iat": now, "nbf": now, "exp": now + 60, "jti": "j", "gen": 0, **claims}
    return jwt.encode(body, app.settings.jwt_secret, algorithm="HS256")


CASES = [
    # name, how to make the token, expected code
    ("valid", lambda app, d: d["access_token"], None),
    ("alg none", lambda app, d: jwt.encode({"sub": str(d["user_id"])}, None, algorithm="none"),
     "unauthorized"),
    ("wrong key", lambda app, d: jwt.encode({"sub": str(d["user_id"])}, "z" * 64), "unauthorized"),
    ("expired", lambda app, d: forge(app, d["user_id"], exp=int(time.time()) - 1), "auth_expired"),
    ("wrong audience", lambda app, d: forge(app, d["user_id"], aud="other"), "unauthorized"),
    ("refresh token as access", lambda app, d: d["refresh_token"], "unauthorized"),
    ("typ refresh", lambda app, d: forge(app, d["user_id"], typ="refresh"), "unauthorized"),
    ("another device of the user", lambda app, d: forge(app, d["user_id"], did="not-mine"),
     "unauthorized"),
    ("old session generation", lambda app, d: forge(app, d["user_id"], gen=-1), "session_revoked"),
    ("a user that never existed", lambda app, d: forge(app, 987654321), "unauthorized"),
]


@pytest.mark.parametrize("name, make, code", CASES, ids=[c[0] for c in CASES])
async def test_bearer_tokens_table(server, name, make, code):
    _, data = await signup(server)
    reply = await call(server, "GET", "/auth/devices", token=make(server, data))
    if code is None:
        assert reply.status == 200
    else:
        assert (reply.status, reply.code) == (401, code), name


async def test_a_deleted_users_token_is_refused_on_rest(server):
    _, data = await signup(server)
    assert (await call(server, "GET", f"/user/{data['user_id']}", token=data["access_token"])).status == 200
    await User.filter(id=data["user_id"]).delete()
    reply = await call(server, "GET", f"/user/{data['user_id']}", token=data["access_token"])
    assert (reply.status, reply.code) == (401, "unauthorized")
    refreshed = await call(server, "POST", "/auth/refresh", json={"refresh_token": data["refresh_token"]})
    assert refreshed.status == 401
