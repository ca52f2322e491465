"""Session state through one module, with prefixed keys that never collide with the authenticator's
(``name``, ``username``, ``roles``, ``authentication_status``, ``logout``, ``init``)."""

from __future__ import annotations

from typing import Any

import streamlit as st

from src.services.context import Actor

PREFIX = "wfp_"
ACTOR = PREFIX + "actor"


def key(name: str) -> str:
    """A namespaced session-state key for page-level values."""
    return PREFIX + name


def set_actor(actor: Actor) -> None:
    st.session_state[ACTOR] = actor


def clear_actor() -> None:
    st.session_state.pop(ACTOR, None)


def current_actor() -> Actor | None:
    actor = st.session_state.get(ACTOR)
    return actor if isinstance(actor, Actor) else None


def get(name: str, default: Any = None) -> Any:
    return st.session_state.get(key(name), default)


def put(name: str, value: Any) -> None:
    st.session_state[key(name)] = value


def pop(name: str) -> Any:
    return st.session_state.pop(key(name), None)
