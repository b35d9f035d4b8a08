"""Each page's view kept in its URL, so that a link restores it: the widget keys a page names (its example, model,
seeds, main sliders) are read from the URL when a session opens the page, checked by the widgets themselves, and
written back as the person changes them; with a "Copy link to this view" control. Uploads and drawings stay out."""
from __future__ import annotations

from typing import Any, Sequence
from urllib.parse import urlencode

import streamlit as st
from streamlit.runtime.scriptrunner import get_script_run_ctx
from streamlit.runtime.state import get_session_state
from streamlit.runtime.state.common import WidgetMetadata
from streamlit.runtime.state.query_params import _coerce_value_for_query_url, parse_url_param

from zoo.i18n import t


def page_path() -> str:
    """The url path of the page this run draws ("cnn"), under which the jobs it starts are recorded as runs."""
    ctx = get_script_run_ctx()
    page = ctx.pages_manager.get_pages().get(ctx.page_script_hash, {}) if ctx else {}
    return page.get("url_pathname") or ""


VIEW_URL_PARAMS = 64
"""a URL with more parameters than this is not read at all: a page's view has a dozen at most"""
VIEW_VALUE_CHARS = 1000
"""the longest parameter value read (the Transformer's prompt box holds 1,000 characters); a longer one is dropped"""
_VIEW_KEYS = "_zoo_view_keys"
_VIEW_READ = "_zoo_view_read"
_VIEW_UNREAD = "_zoo_view_unread"
_VIEW_RESTORE = "_zoo_view_restore"
_REFUSED = object()


def view_in_url(*keys: str) -> None:
    """The page's view: the keys of the widgets whose values its URL keeps, each under its key without the
    page prefix ("cnn_gallery" -> ?gallery=), and a "Copy link to this view" control. Called once, before
    those widgets.

    The first time a session runs the page, the URL's values are taken aside: they can only be checked by
    widgets that exist, so the next run gives each widget the value a link holds for it, if it accepts it
    (checked by `keep_view_in_url` after the page, or here if the page stopped early). Every later run writes
    the view's current values to the URL, so the address bar holds the view (values at their defaults are
    left out)."""
    names = [_param_name(key) for key in keys]
    if len(set(names)) < len(names):
        raise ValueError(f"two view keys of this page share a URL parameter name: {names}")
    st.session_state[_VIEW_KEYS] = keys
    page, read = page_path(), st.session_state.setdefault(_VIEW_READ, set())
    if page not in read:
        read.add(page)
        st.session_state[_VIEW_UNREAD] = _view_from_url(keys)
        if st.session_state[_VIEW_UNREAD]:
            _rerun_if_stopped()
    else:
        checked = st.session_state.pop(_VIEW_RESTORE, None)
        if checked:  # by `keep_view_in_url` at the end of the last run
            st.session_state.update(checked)
        else:  # a link's values that a page which stopped early left unchecked
            _restore(st.session_state.pop(_VIEW_UNREAD, None) or {})
        _write_view(keys, [key for key in keys if key in st.session_state])
    with st.popover(t("ui.link.label"), icon=":material/link:", help=t("ui.link.help")):
        # a Markdown code block has st.code's copy button, and leaves the pages' own st.code texts (samples) first
        st.markdown(f"~~~text\n{_view_link()}\n~~~")
        st.caption(t("ui.link.caption"))


def keep_view_in_url() -> None:
    """After the page (the entry point calls it): the values a link holds for the view's widgets drawn in this
    run, those the widgets accept (see `_accepted`), are given to them with one more run, at once; then the
    URL is brought up to date with the values the view's widgets ended the run with."""
    keys = st.session_state.pop(_VIEW_KEYS, None)
    if keys is None:
        return
    shown = _shown_keys()
    unread = st.session_state.pop(_VIEW_UNREAD, None) or {}
    checked = {key: _accepted(key, unread[key]) for key in set(unread) & shown}
    restore = {key: value for key, value in checked.items() if value is not _REFUSED and value != st.session_state[key]}
    if restore:
        st.session_state[_VIEW_RESTORE] = restore
        st.session_state[_VIEW_UNREAD] = {key: values for key, values in unread.items() if key not in shown}
        st.rerun()
    _write_view(keys, [key for key in keys if key in shown])


@st.fragment(run_every=1.0)
def _rerun_if_stopped() -> None:
    """A page that stops early (`st.stop()`) never reaches `keep_view_in_url`: a second later this asks for
    the run that restores the link's values. Drawn only on a link's first run, so it fires once at most; it
    does nothing when drawn, within that run (only a run of the fragment alone names fragments to run)."""
    ctx = get_script_run_ctx()
    if ctx and ctx.fragment_ids_this_run and st.session_state.get(_VIEW_UNREAD):
        st.rerun(scope="app")


def _restore(unread: dict[str, list[str]]) -> None:
    """Give the view's widgets drawn in the last run (one that stopped early) the values the URL holds for
    them, those they accept (see `_accepted`); the values of widgets not drawn then are dropped."""
    for key, values in unread.items():
        if (value := _accepted(key, values)) is not _REFUSED:
            st.session_state[key] = value


def _write_view(keys: Sequence[str], drawn: Sequence[str]) -> None:
    """Set the URL's parameter of each view widget drawn to its value, and remove the others' (and those at
    their defaults); a parameter already right is left alone, so the browser's history is not touched."""
    for key in keys:
        name, values = _param_name(key), _url_values(key) if key in drawn else []
        if not values and name in st.query_params:
            del st.query_params[name]
        elif values and st.query_params.get_all(name) != values:
            st.query_params[name] = values


def _view_link() -> str:
    """The page's address (`st.context.url`: scheme, host, port and path, without the query) and its query
    parameters, which `view_in_url` has just brought up to date."""
    query = urlencode([(name, value) for name in st.query_params for value in st.query_params.get_all(name)])
    return f"{st.context.url or ''}{'?' + query if query else ''}"


def _param_name(key: str) -> str:
    """The URL parameter of a view widget: its key without the page prefix."""
    return key.split("_", 1)[-1]


def _widget_metadata(key: str) -> WidgetMetadata | None:
    """What Streamlit knows about the widget with this key from its latest run: how it turns its value into
    the URL's text and back. Streamlit's session state keeps it; there is no public accessor."""
    state = get_session_state()._state
    widget_id = state.get_widget_id_from_key(key)
    return state.get_widget_metadata(widget_id) if widget_id else None


def _shown_keys() -> set[str]:
    """The keys of the widgets this run drew."""
    ctx = get_script_run_ctx()
    return set(ctx.shared.widget_user_keys_this_run.snapshot()) if ctx else set()


def _view_from_url(keys: Sequence[str]) -> dict[str, list[str]]:
    """The URL's values for the view's widgets, within the budgets (none if the URL has too many parameters)."""
    if len(st.query_params) > VIEW_URL_PARAMS:
        return {}
    found = {key: st.query_params.get_all(_param_name(key)) for key in keys}
    return {key: values for key, values in found.items()
            if values and len(values) <= VIEW_URL_PARAMS and all(len(v) <= VIEW_VALUE_CHARS for v in values)}


def _accepted(key: str, values: list[str]) -> Any:
    """The value the widget `key` takes from these URL values, or _REFUSED if it does not accept them.

    A value is checked as Streamlit checks a widget bound to the URL (`bind="query-params"`, whose URL format
    this follows): parsed by the widget's type, deserialized by the widget itself, and kept only if it comes
    back unchanged (a slider resets an out-of-range value, so that one is dropped)."""
    metadata = _widget_metadata(key)
    if metadata is None:
        return _REFUSED
    try:
        parsed = parse_url_param(values if len(values) > 1 else values[0], metadata.value_type)
        value = metadata.deserializer(parsed)
        again = parse_url_param(_coerce_value_for_query_url(metadata.serializer(value), metadata.value_type),
                                metadata.value_type)
    except (ValueError, TypeError, IndexError, KeyError, OverflowError):
        return _REFUSED
    options = metadata.formatted_options
    unknown = options is not None and any(v not in options for v in (parsed if isinstance(parsed, list) else [parsed]))
    return _REFUSED if unknown or again != parsed else value


def _url_values(key: str) -> list[str]:
    """The widget's current value as the URL writes it (none when it is at its default)."""
    metadata = _widget_metadata(key)
    if metadata is None or key not in st.session_state:
        return []
    value = st.session_state[key]
    if value == metadata.deserializer(None):
        return []
    written = _coerce_value_for_query_url(metadata.serializer(value), metadata.value_type)
    return written if isinstance(written, list) else [written]
