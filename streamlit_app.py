"""Deep Learning Zoo: the entry point. A picture frame around the pages: the language, navigation by
section, the device in the sidebar, then the chosen page runs."""
import streamlit as st

from zoo import ui
from zoo.i18n import t

st.set_page_config(page_title="Deep Learning Zoo", page_icon="🦓", layout="wide")


def pages() -> dict[str, list[st.Page]]:
    """The pages by section, titled in the visitor's language."""
    def page(name: str, icon: str, **options) -> st.Page:
        return st.Page(f"pages/{name}.py", title=t(f"app.page.{name}"), icon=icon, url_path=name, **options)

    return {
        "": [st.Page("pages/home.py", title=t("app.page.home"), icon=":material/home:", default=True)],
        t("app.section.vision"): [page("mlp", ":material/hub:"), page("cnn", ":material/grid_on:"),
                                  page("resnet", ":material/layers:"), page("unet", ":material/grid_view:"),
                                  page("self_supervised", ":material/join_inner:")],
        t("app.section.language"): [page("rnn", ":material/repeat:"), page("word2vec", ":material/scatter_plot:"),
                                    page("transformer", ":material/center_focus_strong:")],
        t("app.section.generative"): [page("autoencoder", ":material/compress:"), page("gan", ":material/theater_comedy:"),
                                      page("diffusion", ":material/blur_on:")],
        t("app.section.graphs"): [page("gnn", ":material/share:")],
        t("app.section.reinforcement"): [page("dqn", ":material/sports_esports:")],
        t("app.section.tools"): [page("explain", ":material/psychology_alt:"),
                                 page("layers", ":material/stacked_bar_chart:"), page("runs", ":material/monitoring:")],
    }


ui.choose_language()
page = ui.navigation(pages())
ui.frame()
page.run()
ui.keep_view_in_url()
