"""Who is using the studio: a signed-in person with a role, or the local publisher.

With an `[auth]` section in `.streamlit/secrets.toml` the studio asks everyone to sign in
through OpenID Connect (Streamlit's `st.login`, Authlib underneath) and gives them the role
`roles.toml` maps their e-mail or group claim to (engine/access/config.py); someone signed
in without a role sees nothing. Without `[auth]` the studio serves this computer only
(`server.address` 127.0.0.1 in `.streamlit/config.toml`), its user acts as a publisher, and
the sidebar says so; bound to any other address without sign-in it refuses to start a page.
Pages write only through `gate()` with `actor()`; `may(action)` tells them which controls to
draw (the gate checks again).
"""

from __future__ import annotations

import streamlit as st

from dashboard.i18n import show_error, t
from engine.access.config import role_for_claims
from engine.access.gate import Gate
from engine.access.roles import Actor, allows, local_actor
from engine.core.errors import ConfigError

LOOPBACK = ("127.0.0.1", "localhost", "::1")
ACTOR = "_studio_actor"


def sign_in_configured() -> bool:
    try:
        return "auth" in st.secrets
    except FileNotFoundError:  # no secrets file at all
        return False


def _local_actor() -> Actor:
    address = str(st.get_option("server.address") or "")
    if address not in LOOPBACK:
        st.error(t("access.exposed", address=address or t("access.every_interface")))
        st.stop()
    local = local_actor("studio")
    return Actor(t("access.local_name", user=local.name), local.role, local.source)


def _signed_in_actor() -> Actor:
    if not st.user.is_logged_in:
        st.title(t("app.title"))
        st.info(t("access.sign_in_needed"))
        st.button(t("access.sign_in"), key="access_sign_in", type="primary", on_click=st.login)
        st.stop()
    claims = st.user.to_dict()
    name = str(claims.get("email") or claims.get("sub") or "?")
    try:
        role = role_for_claims(claims)
    except ConfigError as exc:
        show_error(exc, "access.roles_invalid")
        st.stop()
    if role is None:
        st.error(t("access.no_role", name=name))
        st.button(t("access.sign_out"), key="access_sign_out", on_click=st.logout)
        st.stop()
    return Actor(name, role, "studio")


def identify() -> Actor:
    """The actor of this script run (stops the run for someone who may not look)."""
    actor = _signed_in_actor() if sign_in_configured() else _local_actor()
    st.session_state[ACTOR] = actor
    return actor


def actor() -> Actor:
    """The actor `identify()` found for this session."""
    found = st.session_state.get(ACTOR)
    return found if isinstance(found, Actor) else identify()


def may(action: str) -> bool:
    return allows(actor().role, action)


def gate() -> Gate:
    return Gate()


def sidebar_badge(who: Actor) -> None:
    """Who is signed in and as what (with sign-out), or the local-only notice."""
    if sign_in_configured():
        st.sidebar.caption(t("access.signed_in", name=who.name, role=t(f"access.role.{who.role}")))
        st.sidebar.button(t("access.sign_out"), key="access_sidebar_sign_out", on_click=st.logout)
    else:
        st.sidebar.caption(t("access.local_only"))
