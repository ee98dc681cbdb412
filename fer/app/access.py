"""Who is looking: sign-in with Streamlit's OIDC (``st.login``), whose sessions they reach, and the audit log.

With ``[auth]`` in the secrets every page but the welcome needs a signed-in teacher,
who reaches only their own sessions; the e-mails under ``[fer] admins`` reach all,
and the audit log. Without sign-in the app is for one local user: it answers only
browsers on this machine (``server.address`` is 127.0.0.1 in ``.streamlit/config.toml``,
and ``fer.app.request_guard`` refuses other peers before Streamlit sees them) unless
``FER_ALLOW_UNAUTHENTICATED_NETWORK=1`` says otherwise, and then every page shows a warning.
"""

from __future__ import annotations

from dataclasses import dataclass

import streamlit as st

from fer.app import resources
from fer.app.request_guard import ALLOW_NETWORK_ENV, LOCAL_ONLY_MESSAGE, network_allowed
from fer.sessions.migrations import LOCAL_OWNER


@dataclass(frozen=True)
class Viewer:
    owner: str  # the signed-in e-mail, or LOCAL_OWNER without sign-in
    label: str  # what the sidebar shows
    is_admin: bool
    signed_in: bool

    @property
    def scope(self) -> str | None:
        """The owner filter for the store: None (all sessions) for admins."""
        return None if self.is_admin else self.owner


def sign_in_configured() -> bool:
    auth = _secrets_section("auth")
    return bool(auth.get("redirect_uri") and auth.get("cookie_secret"))


def admins() -> set[str]:
    return {str(email).strip().lower() for email in _secrets_section("fer").get("admins", [])}


def viewer() -> Viewer | None:
    """The current viewer, or None when sign-in is configured and nobody is signed in."""
    if sign_in_configured():
        if not st.user.get("is_logged_in", False):  # absent outside a real server (AppTest): signed out
            return None
        email = str(st.user.get("email") or st.user.get("sub") or "").strip().lower()
        return Viewer(email, str(st.user.get("name") or email), email in admins(), signed_in=True)
    return Viewer(LOCAL_OWNER, "local user (sign-in not configured)", is_admin=True, signed_in=False)


def gate() -> Viewer | None:
    """Call from app.py before routing: refuses unsafe access, records sign-ins, draws the sidebar account box.

    Returns None when only the welcome page may be shown.
    """
    # The peer's address (None on loopback; not a string in AppTest), never a header the client chose. The request
    # guard already refused other peers; this holds too where app.py is run without serve.py.
    if not sign_in_configured() and isinstance(st.context.ip_address, str):
        if not network_allowed(sign_in=False):
            st.error(LOCAL_ONLY_MESSAGE)
            st.stop()
        st.warning(
            f"Anyone who can reach this server sees every session: sign-in is not configured and "
            f"{ALLOW_NETWORK_ENV}=1 allows access from the network.",
            icon=":material/lock_open:",
        )
    current = viewer()
    if current is None:
        return None
    if current.signed_in:
        if not st.session_state.get("sign_in_recorded"):
            resources.store().record(current.owner, "sign_in")
            st.session_state["sign_in_recorded"] = True
        with st.sidebar:
            st.caption(f"Signed in as {current.label}" + (" (admin)" if current.is_admin else ""))
            if st.button("Sign out"):
                st.session_state.pop("sign_in_recorded", None)
                st.logout()
    return current


def current() -> Viewer:
    """The viewer on a page that app.py let through (a page opened without app.py, as in tests, gets the same)."""
    found = viewer()
    if found is None:  # a signed-out request that skipped app.py's gate
        st.stop()
    return found


def audited(action: str, session_id: int | None = None, detail: str = "") -> None:
    """For download buttons' ``on_click``: record who downloaded or exported what."""
    resources.store().record(current().owner, action, session_id, detail)


def _secrets_section(name: str) -> dict:
    try:
        return dict(st.secrets.get(name, {}))
    except (FileNotFoundError, st.errors.StreamlitSecretNotFoundError):
        return {}
