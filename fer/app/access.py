"""Who is looking: sign-in with Streamlit's OIDC (``st.login``), whose sessions they reach, and the audit log.

With ``[auth]`` in the secrets every page but the welcome needs a signed-in teacher,
who reaches only their own sessions; the accounts under ``[fer] admins`` reach all,
and the audit log. An account is what the provider vouches for (``owner_key``): an
e-mail only when the provider says it verified it, else the provider's issuer and
subject. Signing out ends every sign-in of that account made before it, in any browser.

Without sign-in the app is for one local user: it answers only browsers on this machine
(``server.address`` is 127.0.0.1 in ``.streamlit/config.toml``, and ``fer.app.request_guard``
refuses other peers before Streamlit sees them) unless ``FER_ALLOW_UNAUTHENTICATED_NETWORK=1``
says otherwise, and then every page shows a warning.
"""

from __future__ import annotations

import json
import time
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime

import streamlit as st

from fer.app import request_guard, resources
from fer.app.markdown import plain
from fer.app.request_guard import ALLOW_NETWORK_ENV, LOCAL_ONLY_MESSAGE
from fer.sessions.migrations import LOCAL_OWNER
from fer.sessions.store import SessionStore


@dataclass(frozen=True)
class Viewer:
    owner: str  # the signed-in account (owner_key), or LOCAL_OWNER without sign-in
    label: str  # what the sidebar shows
    is_admin: bool
    signed_in: bool
    signed_in_at: datetime | None = None  # when the provider issued this sign-in (its ID token's iat)

    @property
    def scope(self) -> str | None:
        """The owner filter for the store: None (all sessions) for admins."""
        return None if self.is_admin else self.owner


def network_allowed() -> bool:
    """Other machines may be answered: sign-in is configured, or the open switch is set (environment or secret)."""
    try:
        secrets = dict(st.secrets)
    except (FileNotFoundError, st.errors.StreamlitSecretNotFoundError):
        secrets = {}
    return request_guard.network_allowed(sign_in_configured(), secrets)


def sign_in_configured() -> bool:
    auth = _secrets_section("auth")
    return bool(auth.get("redirect_uri") and auth.get("cookie_secret"))


def owner_key(claims: Mapping[str, object]) -> str | None:
    """The account a signed-in person acts as: their e-mail (lower case) when the provider verified it, else
    ``<issuer>#<subject>``, which no e-mail can equal. None when the provider said neither.

    An unverified e-mail claim is whatever the person typed at their provider: taking it would let anyone
    become the head of year by naming themselves so.
    """
    email = str(claims.get("email") or "").strip().lower()
    if email and claims.get("email_verified") in (True, "true"):
        return email
    issuer, subject = str(claims.get("iss") or ""), str(claims.get("sub") or "")
    return f"{issuer}#{subject}" if issuer and subject else None


def admins() -> set[str]:
    """``[fer] admins``: verified e-mails (any case) and ``<issuer>#<subject>`` accounts (exactly)."""
    listed = (str(entry).strip() for entry in _secrets_section("fer").get("admins", []))
    return {entry if "#" in entry else entry.lower() for entry in listed}


def viewer() -> Viewer | None:
    """The current viewer, or None when sign-in is configured and nobody is signed in (or their sign-in was
    ended by a sign-out since, or the provider did not say who they are)."""
    if not sign_in_configured():
        return Viewer(LOCAL_OWNER, "local user (sign-in not configured)", is_admin=True, signed_in=False)
    if not st.user.get("is_logged_in", False):  # absent outside a real server (AppTest): signed out
        return None
    account = _account(st.user, resources.store())
    if account is None:
        return None
    owner, signed_in_at = account
    label = str(st.user.get("name") or st.user.get("email") or owner)
    return Viewer(owner, label, owner in admins(), signed_in=True, signed_in_at=signed_in_at)


def cookie_account(cookies: Mapping[str, str], store: SessionStore) -> str | None:
    """The account a plain HTTP request (a download link) comes from: Streamlit's signed sign-in cookie, read the
    way its server reads it for the WebSocket; None if absent, forged, or ended by a sign-out since."""
    from streamlit.web.server.starlette.starlette_server_config import USER_COOKIE_NAME
    from streamlit.web.server.starlette.starlette_websocket import _get_signed_cookie_with_chunks  # pinned Streamlit

    try:
        claims = json.loads(_get_signed_cookie_with_chunks(dict(cookies), USER_COOKIE_NAME) or b"{}")
    except ValueError:
        return None
    account = _account(claims, store) if isinstance(claims, dict) and claims.get("is_logged_in") else None
    return account[0] if account else None


def _account(claims: Mapping[str, object], store: SessionStore) -> tuple[str, datetime | None] | None:
    """(account, when signed in) for a sign-in's claims; None if they name no account or a sign-out ended it."""
    owner = owner_key(claims)
    if owner is None:
        return None
    issued = claims.get("iat")
    signed_in_at = datetime.fromtimestamp(issued, UTC) if isinstance(issued, int | float) else None
    signed_out = _signed_out_at(owner, store)
    if signed_out is not None and (signed_in_at is None or signed_in_at <= signed_out):
        return None  # a cookie from before a sign-out (captured, or another browser): revoked
    return owner, signed_in_at


SIGN_OUT_CHECK_S = 10.0  # how old a known last sign-out may be: another server process's sign-out counts by then
_SIGN_OUTS: dict[str, tuple[float, datetime | None]] = {}  # account: (when looked up, their last sign-out)


def _signed_out_at(owner: str, store: SessionStore) -> datetime | None:
    """The account's last sign-out, looked up at most every ``SIGN_OUT_CHECK_S``: every rerun and every range
    request of a playing video asks, and the audit log is scanned for it."""
    held = _SIGN_OUTS.get(owner)
    if held is None or time.monotonic() - held[0] > SIGN_OUT_CHECK_S:
        held = (time.monotonic(), store.last_recorded(owner, "sign_out"))
        _SIGN_OUTS[owner] = held
    return held[1]


def _sign_out(current: Viewer) -> None:
    resources.store().record(current.owner, "sign_out")
    _SIGN_OUTS.pop(current.owner, None)  # this process knows at once
    st.logout()


def gate() -> Viewer | None:
    """Call from app.py before routing: refuses unsafe access, records sign-ins, draws the sidebar account box.

    Returns None when only the welcome page may be shown.
    """
    if not sign_in_configured() and network_allowed():  # said to every visitor, this machine's too: it is open
        st.warning(
            f"Anyone who can reach this server sees every session: sign-in is not configured and "
            f"{ALLOW_NETWORK_ENV}=1 allows access from the network.",
            icon=":material/lock_open:",
        )
    # The peer's address (None on loopback; not a string in AppTest), never a header the client chose. The request
    # guard already refused other peers; this holds too where app.py is run without serve.py.
    elif not sign_in_configured() and isinstance(st.context.ip_address, str):
        st.error(LOCAL_ONLY_MESSAGE)
        st.stop()
    current = viewer()
    if current is None:
        return None
    if current.signed_in:
        _record_sign_in(current)
        with st.sidebar:
            st.caption(
                f"Signed in as {plain(current.label)}" + (" (admin)" if current.is_admin else ""),
                help=f"Your account, as an administrator lists it under [fer] admins: {current.owner}",
            )
            if st.button("Sign out", help="Ends this sign-in in every browser it was used in."):
                _sign_out(current)
    return current


def _record_sign_in(current: Viewer) -> None:
    """One audit line per sign-in (per ID token), however many browser tabs or reconnections use it."""
    if st.session_state.get("sign_in_recorded") == current.signed_in_at:
        return
    last = resources.store().last_recorded(current.owner, "sign_in")
    if current.signed_in_at is None or last is None or last < current.signed_in_at:
        resources.store().record(current.owner, "sign_in")
    st.session_state["sign_in_recorded"] = current.signed_in_at


def current() -> Viewer:
    """The viewer on a page that app.py let through (a page opened without app.py, as in tests, gets the same)."""
    found = viewer()
    if found is None:  # a signed-out request that skipped app.py's gate
        st.stop()
    return found


def _secrets_section(name: str) -> dict:
    try:
        return dict(st.secrets.get(name, {}))
    except (FileNotFoundError, st.errors.StreamlitSecretNotFoundError):
        return {}
