import pytest

from server.settings import SettingsError, load_settings

GOOD_SECRET = "s" * 32


def production(**overrides):
    values = {"env": "production", "jwt_secret": GOOD_SECRET,
              "database_url": "postgres://u@db:5432/feltsync", "redis_url": "redis://r:6379/0"}
    values.update(overrides)
    return values


def test_production_with_every_requirement_starts(tmp_path):
    settings = load_settings(var_dir=tmp_path, **production())
    assert settings.env == "production" and not settings.jwt_secret_generated


@pytest.mark.parametrize("overrides, reason", [
    ({"jwt_secret": ""}, "JWT_SECRET is not set"),
    ({"jwt_secret": "short"}, "shorter than 32 bytes"),
    ({"database_url": ""}, "SQLite"),
    ({"database_url": "sqlite://x.db"}, "SQLite"),
    ({"redis_url": ""}, "REDIS_URL is not set"),
    ({"bcrypt_cost": 10}, "BCRYPT_COST"),
])
def test_production_refuses_insecure_defaults_with_a_reason(tmp_path, overrides, reason):
    with pytest.raises(SettingsError) as info:
        load_settings(var_dir=tmp_path, **production(**overrides))
    assert len(info.value.reasons) == 1
    assert reason in info.value.reasons[0]


def test_production_lists_every_problem_at_once(tmp_path):
    with pytest.raises(SettingsError) as info:
        load_settings(var_dir=tmp_path, env="production")
    assert len(info.value.reasons) == 3


def test_embedded_default_generates_a_dev_secret_once(tmp_path):
    first = load_settings(var_dir=tmp_path)
    second = load_settings(var_dir=tmp_path)
    assert first.jwt_secret_generated and len(first.jwt_secret) >= 32
    assert first.jwt_secret == second.jwt_secret
    assert (tmp_path / "dev_jwt_secret").stat().st_mode & 0o077 == 0
    assert first.database_url == f"sqlite://{(tmp_path / 'feltsync.sqlite3').as_posix()}"


def test_settings_come_from_the_environment(tmp_path, monkeypatch):
    monkeypatch.setenv("PORT", "9999")
    monkeypatch.setenv("DATABASE_URL", "postgresql://u@h:5432/d")
    settings = load_settings(var_dir=tmp_path)
    assert settings.port == 9999
    assert settings.database_url == "postgres://u@h:5432/d"


def test_invalid_values_fail_fast(tmp_path, monkeypatch):
    monkeypatch.setenv("PORT", "eighty")
    with pytest.raises(ValueError):
        load_settings(var_dir=tmp_path)


def test_settings_are_frozen(tmp_path):
    settings = load_settings(var_dir=tmp_path)
    with pytest.raises(ValueError):
        settings.port = 1
