"""Sign-in and access (fer.app.access): who may see the app, and what a signed-out visitor sees."""

from __future__ import annotations

import tomllib
from pathlib import Path

from streamlit.testing.v1 import AppTest

from fer.app.access import Viewer
from fer.sessions.store import SessionStore

ROOT = Path(__file__).resolve().parents[2]
AUTH = {
    "redirect_uri": "http://localhost:8501/oauth2callback",
    "cookie_secret": "test",
    "client_id": "fer",
    "client_secret": "fer",
    "server_metadata_url": "http://127.0.0.1:9/.well-known/openid-configuration",
}


def test_the_server_listens_on_loopback_unless_told_otherwise() -> None:
    config = tomllib.loads((ROOT / ".streamlit" / "config.toml").read_text())
    assert config["server"]["address"] == "127.0.0.1"


def test_admins_reach_every_session_and_teachers_their_own() -> None:
    assert Viewer("head@school.org", "Head", is_admin=True, signed_in=True).scope is None
    assert Viewer("alice@school.org", "Alice", is_admin=False, signed_in=True).scope == "alice@school.org"


def test_with_sign_in_configured_a_signed_out_visitor_gets_only_the_welcome(tmp_path: Path, monkeypatch) -> None:
    monkeypatch.setenv("FER_DATA_DIR", str(tmp_path))
    monkeypatch.delenv("FER_DATABASE_URL", raising=False)
    from tests.sessions.test_store import _save

    _save(SessionStore(), "Year 9 French, secret name", owner="alice@school.org")
    app = AppTest.from_file(str(ROOT / "app.py"), default_timeout=60)
    app.secrets["auth"] = AUTH
    app.run()
    assert not app.exception
    assert [b.label for b in app.button] == ["Sign in"]
    shown = " ".join(str(element.value) for element in [*app.markdown, *app.caption, *app.title])
    assert "Year 9 French" not in shown and "Recent sessions" not in shown
