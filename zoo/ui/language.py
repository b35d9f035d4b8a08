"""The visitor's language: taken from a link's `?lang=`, else the browser's (`st.context.locale`), switched in the
sidebar, and kept in the URL so that a shared link opens in the same language. `zoo.i18n.t` follows it."""
from __future__ import annotations

import streamlit as st
from streamlit.runtime.scriptrunner import get_script_run_ctx

from zoo import i18n

LANGUAGE_KEY = "zoo_language"
"""the session's language code: a plain session-state value, which outlives any run that drew no switch"""
SWITCH_KEY = "zoo_language_switch"
"""the sidebar switch's widget key; its value is handed to LANGUAGE_KEY when the reader changes it"""
URL_PARAM = "lang"


def _session_language() -> str | None:
    """The language of the session whose script runs in this thread (None outside a script run, e.g. in a worker)."""
    return st.session_state.get(LANGUAGE_KEY) if get_script_run_ctx() else None


i18n.follow(_session_language)


def choose_language() -> str:
    """The session's language, with the switch for it at the top of the sidebar; the entry point calls it first,
    so that everything drawn after it (the page titles in the navigation too) speaks it."""
    if LANGUAGE_KEY not in st.session_state:
        st.session_state[LANGUAGE_KEY] = (i18n.supported(st.query_params.get(URL_PARAM))
                                          or i18n.supported(st.context.locale) or i18n.DEFAULT)
    code = st.session_state[LANGUAGE_KEY]
    st.session_state[SWITCH_KEY] = code
    st.sidebar.radio(i18n.t("app.language"), list(i18n.LANGUAGES), format_func=i18n.LANGUAGES.get, key=SWITCH_KEY,
                     on_change=_switched)  # one per line: side by side, the third wrapped under the first two
    if st.query_params.get(URL_PARAM) != code:
        st.query_params[URL_PARAM] = code
    return code


def _switched() -> None:
    st.session_state[LANGUAGE_KEY] = st.session_state[SWITCH_KEY]
