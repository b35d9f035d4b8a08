"""Deep Learning Zoo: the entry point. A picture frame around the pages: navigation by
section, the device in the sidebar, then the chosen page runs."""
import streamlit as st

from zoo import ui

st.set_page_config(page_title="Deep Learning Zoo", page_icon="🦓", layout="wide")

PAGES = {
    "": [st.Page("pages/home.py", title="Home", icon="🏠", default=True)],
    "Vision": [
        st.Page("pages/cnn.py", title="CNN", icon="🧩", url_path="cnn"),
    ],
}

navigation = st.navigation(PAGES)
ui.show_device()
navigation.run()
