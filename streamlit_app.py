"""Deep Learning Zoo: the entry point. A picture frame around the pages: navigation by
section, the device in the sidebar, then the chosen page runs."""
import streamlit as st

from zoo import ui

st.set_page_config(page_title="Deep Learning Zoo", page_icon="🦓", layout="wide")

PAGES = {
    "": [st.Page("pages/home.py", title="Home", icon=":material/home:", default=True)],
    "Vision": [
        st.Page("pages/mlp.py", title="MLP / DNN", icon=":material/hub:", url_path="mlp"),
        st.Page("pages/cnn.py", title="CNN", icon=":material/grid_on:", url_path="cnn"),
        st.Page("pages/resnet.py", title="ResNet", icon=":material/layers:", url_path="resnet"),
        st.Page("pages/unet.py", title="U-Net", icon=":material/grid_view:", url_path="unet"),
        st.Page("pages/self_supervised.py", title="Self-supervised", icon=":material/join_inner:", url_path="self_supervised"),
    ],
    "Language": [
        st.Page("pages/rnn.py", title="RNN / GRU / LSTM", icon=":material/repeat:", url_path="rnn"),
        st.Page("pages/word2vec.py", title="Word2Vec", icon=":material/scatter_plot:", url_path="word2vec"),
        st.Page("pages/transformer.py", title="Transformer", icon=":material/center_focus_strong:", url_path="transformer"),
    ],
    "Generative": [
        st.Page("pages/autoencoder.py", title="Autoencoder / VAE", icon=":material/compress:", url_path="autoencoder"),
        st.Page("pages/gan.py", title="GAN", icon=":material/theater_comedy:", url_path="gan"),
        st.Page("pages/diffusion.py", title="Diffusion", icon=":material/blur_on:", url_path="diffusion"),
    ],
    "Graphs": [
        st.Page("pages/gnn.py", title="GNN", icon=":material/share:", url_path="gnn"),
    ],
    "Reinforcement learning": [
        st.Page("pages/dqn.py", title="DQN", icon=":material/sports_esports:", url_path="dqn"),
    ],
    "Tools": [
        st.Page("pages/explain.py", title="Explain", icon=":material/psychology_alt:", url_path="explain"),
        st.Page("pages/layers.py", title="Inside the layers", icon=":material/stacked_bar_chart:", url_path="layers"),
        st.Page("pages/runs.py", title="Runs", icon=":material/monitoring:", url_path="runs"),
    ],
}

page = ui.navigation(PAGES)
ui.frame()
page.run()
ui.keep_view_in_url()
