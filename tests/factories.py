"""Test data made directly through the models, for suites that need a user but not the auth flow."""

from __future__ import annotations

import uuid
from dataclasses import dataclass

from models.accounts import Device, User


@dataclass
class TestUser:
    __test__ = False  # a test helper, not a test class
    user: User
    device_id: str
    token: str

    @property
    def id(self) -> int:
        return self.user.id

    @property
    def headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token}"}


async def create_user(app, *, is_admin: bool = False, device_id: str = "dev-1",
                      nickname: str = "player") -> TestUser:
    """A user with one registered device and a valid access token for `app` (a RunningApp).

    The password hash is unusable on purpose: such a user cannot log in with a password.
    """
    user = await User.create(login=f"u_{uuid.uuid4().hex[:12]}", password_hash="!unusable",
                             nickname=nickname, is_admin=is_admin)
    await Device.create(user=user, device_id=device_id, name="test", platform="pc")
    return TestUser(user, device_id, app.access_token(user.id, device_id))
