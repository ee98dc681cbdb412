"""A real OIDC sign-in in Debian's chromium against a mock provider on loopback: each teacher sees only their own
sessions, a signed-out visitor sees none, an admin sees all; sign-ins land in the audit log. Accounts are what the
provider vouches for: an unverified e-mail claim or a subject spelled like an e-mail reaches nobody's sessions, and
a sign-in cookie kept from before a sign-out no longer works."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from fer.sessions.store import SessionStore
from tests.app_server import running_app
from tests.conftest import CHROMIUM
from tests.sessions.test_store import _save

oidc_provider_mock = pytest.importorskip("oidc_provider_mock", reason="oidc-provider-mock is in requirements-dev")
httpx = pytest.importorskip("httpx")
pytestmark = pytest.mark.skipif(not CHROMIUM.is_file(), reason=f"Debian chromium not found at {CHROMIUM}")

TEACHERS = {"alice": "Alice's maths, period 2", "bob": "Bob's physics lab"}


@pytest.fixture(scope="module")
def oidc_issuer() -> Iterator[str]:
    with oidc_provider_mock.run_server_in_thread() as server:
        issuer = f"http://127.0.0.1:{server.server_port}"
        for user in [*TEACHERS, "head"]:
            claims = {"email": f"{user}@school.org", "email_verified": True, "name": user.title()}
            assert httpx.put(f"{issuer}/users/{user}", json=claims).status_code == 204
        # the probe's look-alikes: an unverified claim of the admin's e-mail, and a subject spelled as Alice's
        mallory = {"email": "HEAD@School.org", "email_verified": False, "name": "Mallory"}
        assert httpx.put(f"{issuer}/users/mallory", json=mallory).status_code == 204
        assert httpx.put(f"{issuer}/users/alice@school.org", json={"name": "Alias"}).status_code == 204
        yield issuer


@pytest.fixture(scope="module")
def signed_app(tmp_path_factory: pytest.TempPathFactory, oidc_issuer: str) -> Iterator[tuple[str, Path]]:
    data = tmp_path_factory.mktemp("sign_in_data")
    store = SessionStore(f"sqlite:///{data / 'sessions.db'}")
    for user, name in TEACHERS.items():
        files = data / "sessions" / user  # an export kept with the session, downloaded from the report
        files.mkdir(parents=True)
        (files / "timeline.csv").write_text("time_s,faces\n0.0,1\n")
        _save(store, name, owner=f"{user}@school.org", artifacts_dir=files)
    _save(store, "Kept from before sign-in")  # the local user's, as the migration leaves older sessions
    store.engine.dispose()
    with running_app(data, oidc_issuer=oidc_issuer, admins=("head@school.org",)) as url:
        yield url, data


@pytest.fixture(scope="module")
def browser(playwright):
    browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=["--no-sandbox"])
    yield browser
    browser.close()


def _session_names_shown(page) -> set[str]:
    page.get_by_role("combobox").first.click()  # open the session picker: every option it offers
    page.wait_for_timeout(500)
    text = page.locator("body").inner_text()
    page.keyboard.press("Escape")
    return {name for name in [*TEACHERS.values(), "Kept from before sign-in"] if name in text}


def _sign_in(browser, url: str, user: str, shown_as: str | None = None):
    context = browser.new_context(viewport={"width": 1280, "height": 1400})
    page = context.new_page()
    page.goto(f"{url}/reports")
    page.get_by_role("button", name="Sign in").click(timeout=60_000)
    page.locator("input[name=sub]").fill(user, timeout=30_000)
    page.get_by_role("button", name="Authorize").click()
    page.get_by_text(f"Signed in as {shown_as or user.title()}").wait_for(timeout=60_000)
    return page


def test_a_signed_out_visitor_sees_the_welcome_and_no_session(browser, signed_app) -> None:
    url, _data = signed_app
    page = browser.new_page()
    for path in ("", "/reports", "/analyse", "/live"):
        page.goto(f"{url}{path}")
        page.get_by_role("button", name="Sign in").wait_for(timeout=60_000)
        text = page.locator("body").inner_text()
        assert not any(name in text for name in TEACHERS.values())
        assert "Analyse a video" not in text  # no other page in the menu
    page.close()


@pytest.mark.parametrize("user", list(TEACHERS))
def test_each_teacher_signs_in_and_sees_only_their_own_sessions(browser, signed_app, user: str) -> None:
    url, _data = signed_app
    page = _sign_in(browser, url, user)
    page.goto(f"{url}/reports")
    page.get_by_text("Sessions (pick").first.wait_for(timeout=60_000)
    assert _session_names_shown(page) == {TEACHERS[user]}
    page.goto(url)
    page.get_by_text("Recent sessions").wait_for(timeout=60_000)
    assert "Audit log" not in page.locator("body").inner_text()  # admins only
    page.screenshot(path=str(Path(__file__).resolve().parents[2] / "screenshots" / f"signed_in_{user}.png"))
    page.context.close()


def test_an_admin_sees_every_session_and_the_audit_log(browser, signed_app) -> None:
    url, data = signed_app
    page = _sign_in(browser, url, "head")
    page.goto(f"{url}/reports")
    page.get_by_text("Sessions (pick").first.wait_for(timeout=60_000)
    assert _session_names_shown(page) == {*TEACHERS.values(), "Kept from before sign-in"}
    page.goto(url)
    page.get_by_text("Audit log (admins)").wait_for(timeout=60_000)
    page.context.close()
    audit = SessionStore(f"sqlite:///{data / 'sessions.db'}").audit()
    assert {"alice@school.org", "bob@school.org", "head@school.org"} <= set(
        audit.loc[audit["action"] == "sign_in", "actor"]
    )


@pytest.mark.parametrize(("user", "shown_as"), [("mallory", "Mallory"), ("alice@school.org", "Alias")])
def test_unverified_or_look_alike_claims_reach_no_one_elses_sessions(browser, signed_app, oidc_issuer, user, shown_as):
    url, data = signed_app
    page = _sign_in(browser, url, user, shown_as)
    assert "(admin)" not in page.locator("[data-testid='stSidebar']").inner_text()
    page.goto(f"{url}/reports")
    page.get_by_text("No sessions yet").first.wait_for(timeout=60_000)
    page.goto(url)
    page.get_by_text("Recent sessions").wait_for(timeout=60_000)
    assert "Audit log" not in page.locator("body").inner_text()
    page.context.close()
    audit = SessionStore(f"sqlite:///{data / 'sessions.db'}").audit()
    assert f"{oidc_issuer}#{user}" in set(audit["actor"])  # logged as the provider's account, not the e-mail


def test_signing_out_ends_the_sign_in_everywhere_a_kept_cookie_included(browser, signed_app) -> None:
    url, data = signed_app
    page = _sign_in(browser, url, "bob")
    kept = page.context.cookies()  # what an attacker copied from this browser
    page.get_by_role("button", name="Sign out").click()
    page.wait_for_url(lambda address: not address.startswith(url), timeout=60_000)  # on to the provider's sign-out
    page.context.close()
    replay = browser.new_context(viewport={"width": 1280, "height": 1400})
    replay.add_cookies(kept)
    page = replay.new_page()
    page.goto(f"{url}/reports")
    page.get_by_role("button", name="Sign in").wait_for(timeout=60_000)
    assert TEACHERS["bob"] not in page.locator("body").inner_text()
    replay.close()
    audit = SessionStore(f"sqlite:///{data / 'sessions.db'}").audit()
    assert "sign_out" in set(audit.loc[audit["actor"] == "bob@school.org", "action"])
    page = _sign_in(browser, url, "bob")  # signing in again works
    page.goto(f"{url}/reports")
    page.get_by_text("Sessions (pick").first.wait_for(timeout=60_000)
    page.context.close()


def test_a_sessions_files_download_only_with_their_owners_sign_in(browser, signed_app) -> None:
    url, _data = signed_app
    page = _sign_in(browser, url, "alice")
    page.goto(f"{url}/reports")
    link = page.get_by_role("link", name="Timeline (CSV)")
    link.wait_for(timeout=60_000)
    href = link.get_attribute("href")
    response = page.request.get(f"{url}{href}")  # with Alice's sign-in cookie, as her browser sends it
    assert response.status == 200 and response.text().startswith("time_s")
    page.context.close()
    passed_on = httpx.get(f"{url}{href}", timeout=30)  # the link alone, as if forwarded or copied
    assert passed_on.status_code == 403 and "another account" in passed_on.text
    bob = _sign_in(browser, url, "bob")
    assert bob.request.get(f"{url}{href}").status == 403
    bob.context.close()
