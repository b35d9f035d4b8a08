"""Autoencoder / VAE page: squeeze garments through a small code and rebuild them; walk the VAE's
latent space, denoise, look at a sparse dictionary, and fine-tune the VAE with a beta slider."""
import numpy as np
import streamlit as st

from models.autoencoder import explore, figures
from models.autoencoder.recipe import finetune_autoencoder
from zoo import plots, ui
from zoo.data import fashion_mnist
from zoo.i18n import t

ui.page_intro(t("autoencoder.title"), t("autoencoder.intro"))

vae, vae_card = ui.shared_model("vae-fashion")
ae, ae_card = ui.shared_model("ae-fashion")
dae, dae_card = ui.shared_model("dae-fashion")
sae, sae_card = ui.shared_model("sae-fashion")
v = vae_card["metrics"]
st.caption(t("autoencoder.card_summary", elbo=v["elbo_nats"], fid=v["fid"], floor=v["fid_real_floor"],
             covered=v["classes_covered"], mse=ae_card["metrics"]["reconstruction_mse"]))
for card in (vae_card, ae_card, dae_card, sae_card):
    ui.model_card(card)

ui.view_in_url("ae_source", "ae_gallery", "ae_x", "ae_y", "ae_noise", "ae_seed")
st.header(t("autoencoder.rebuilt.header"))
image, caption = ui.fashion_image_input("ae")
if image is None:
    st.stop()
batch = image.unsqueeze(0)
rebuilt = {"input": image[0].numpy(), "autoencoder": explore.reconstruct(ae, batch)[0],
           "VAE": explore.reconstruct(vae, batch)[0]}
columns = st.columns(3)
for column, (name, pixels) in zip(columns, rebuilt.items()):
    title = (t("autoencoder.rebuilt.input") if name == "input" else
             t(f"autoencoder.rebuilt.{name.lower()}", error=np.mean((pixels - rebuilt["input"]) ** 2)))
    column.plotly_chart(plots.image(pixels, title, height=230), key=f"ae_rebuilt_{name}")
st.caption(t("autoencoder.rebuilt.caption", caption=caption))

st.header(t("autoencoder.latent.header"))
st.markdown(t("autoencoder.latent.text"))


@st.cache_resource(show_spinner=False)
def latent_view(model_name: str):
    sample = explore.map_sample()
    codes = explore.encode(ui.shared_model(model_name)[0], sample.floats())
    plane = explore.latent_plane(codes)
    return plane, plane.project(codes), sample.labels.numpy()


with st.spinner(t("autoencoder.latent.spinner")):
    plane, points, labels = latent_view("vae-fashion")
reach = 3 * plane.spread
you = plane.project(explore.encode(vae, batch))[0]
a, b = st.columns(2)
x = a.slider(t("autoencoder.latent.direction", n=1), float(-reach[0]), float(reach[0]), 0.0, key="ae_x")
y = b.slider(t("autoencoder.latent.direction", n=2), float(-reach[1]), float(reach[1]), 0.0, key="ae_y")
picked = st.session_state.get("ae_picked")
if picked is not None:
    x, y = picked
clicks = (np.linspace(-reach[0], reach[0], 41), np.linspace(-reach[1], reach[1], 41))
left, right = st.columns([3, 1])
event = left.plotly_chart(figures.latent_map(points, labels, fashion_mnist.class_names(),
                                           {t("autoencoder.latent.you"): tuple(you), t("autoencoder.latent.decoded"): (x, y)},
                                           clickable=clicks), key="ae_map", on_select="rerun", selection_mode="points")
chosen = [p for p in (event.selection.get("points", []) if event else []) if p.get("curve_number") == 0]
if chosen and (chosen[0]["x"], chosen[0]["y"]) != picked:
    st.session_state["ae_picked"] = (chosen[0]["x"], chosen[0]["y"])
    st.rerun()
right.plotly_chart(plots.image(explore.decode(vae, plane.lift([[x, y]]))[0], t("autoencoder.latent.decoded_at", x=x, y=y),
                               height=230), key="ae_decoded")
if picked is not None and right.button(t("autoencoder.latent.unpick"), key="ae_unpick"):
    st.session_state.pop("ae_picked")
    st.rerun()
st.markdown(t("autoencoder.latent.grid_text"))
st.plotly_chart(plots.image_grid(explore.plane_grid(vae, plane), title=t("autoencoder.latent.grid_title"), cols=9,
                                 height_per_row=70, colorscale="gray", zrange=(0, 1), gap=0.003), key="ae_grid")

st.subheader(t("autoencoder.interpolate.header"))
images, gallery_labels = ui.gallery()
names = fashion_mnist.class_names()
name_of = {i: t("autoencoder.interpolate.item", i=i, name=names[label]) for i, label in enumerate(gallery_labels)}.get
a, b, c = st.columns([2, 2, 1])
first = a.selectbox(t("autoencoder.interpolate.from"), range(len(gallery_labels)), index=0, format_func=name_of,
                    key="ae_from")
second = b.selectbox(t("autoencoder.interpolate.to"), range(len(gallery_labels)), index=1, format_func=name_of,
                     key="ae_to")
steps = c.slider(t("autoencoder.steps"), 3, 12, 8, key="ae_steps")
st.plotly_chart(plots.image_grid(explore.interpolate(vae, images[[first, second]], steps),
                                 title=t("autoencoder.interpolate.title", first=name_of(first),
                                         second=name_of(second), steps=steps), cols=steps,
                                 height_per_row=110, colorscale="gray", zrange=(0, 1), gap=0.004), key="ae_interpolation")
st.caption(t("autoencoder.interpolate.caption"))

st.header(t("autoencoder.denoise.header"))
st.markdown(t("autoencoder.denoise.text"))
noise = st.slider(t("autoencoder.denoise.noise"), 0.0, 0.8, 0.3, step=0.05, key="ae_noise")
noisy = explore.add_noise(batch, noise)
views = {"noisy input": noisy[0, 0].numpy(), "denoising autoencoder": explore.reconstruct(dae, noisy)[0],
         "plain autoencoder": explore.reconstruct(ae, noisy)[0]}
for column, (name, pixels), code in zip(st.columns(3), views.items(), ("noisy", "denoising", "plain")):
    error = np.mean((pixels - rebuilt["input"]) ** 2)
    column.plotly_chart(plots.image(pixels, t(f"autoencoder.denoise.{code}", error=error), height=230),
                        key=f"ae_denoise_{name}")
d = dae_card["metrics"]
st.caption(t("autoencoder.denoise.caption", noise=0.3, denoised=d["denoised_mse"], noisy=d["noisy_mse"]))

st.header(t("autoencoder.sparse.header"))
st.markdown(t("autoencoder.sparse.text", units=sae.config.latent))
st.plotly_chart(plots.image_grid(explore.dictionary(sae), title=t("autoencoder.sparse.dictionary_title"),
                                 cols=16, height_per_row=60, symmetric=True, gap=0.003), key="ae_dictionary")
units, activations, atoms = explore.strongest_atoms(sae, image)
st.markdown(t("autoencoder.sparse.parts", k=len(units), active=sae_card["metrics"]["active_code_share"]))
st.plotly_chart(plots.image_grid(atoms, title=t("autoencoder.sparse.atoms_title"),
                                 titles=[t("autoencoder.sparse.unit", unit=int(u), activation=float(a))
                                         for u, a in zip(units, activations)],
                                 cols=len(units), height_per_row=110, symmetric=True), key="ae_atoms")

st.header(t("autoencoder.samples.header"))
seed = st.number_input(t("autoencoder.samples.seed"), 0, 10_000, 0, key="ae_seed")
st.plotly_chart(plots.image_grid(explore.samples(vae, 32, int(seed)), title=t("autoencoder.samples.title", n=32,
                                                                                  seed=int(seed)), cols=16,
                                 height_per_row=70, colorscale="gray", zrange=(0, 1), gap=0.003), key="ae_samples")
shares = v["class_shares"]
class_shares = t("autoencoder.samples.separator").join(
    t("autoencoder.samples.share", name=names[fashion_mnist.CLASSES.index(name)], share=share)
    for name, share in shares.items())
st.caption(t("autoencoder.samples.caption", n=10_000, shares=class_shares))

st.header(t("autoencoder.finetune.header"))
st.markdown(t("autoencoder.finetune.text"))
a, b, c = st.columns(3)
beta = a.select_slider(t("autoencoder.finetune.beta"), options=[0.1, 0.25, 0.5, 1.0, 2.0, 4.0, 8.0], value=4.0, key="ae_beta")
lr = b.select_slider(t("autoencoder.finetune.lr"), options=[1e-4, 3e-4, 1e-3, 3e-3], value=1e-3, format_func=lambda v: f"{v:.0e}",
                     key="ae_lr")
steps = c.slider(t("autoencoder.steps"), 20, 400, 100, step=20, key="ae_ft_steps")


def draw_finetune(events: list[dict]) -> None:
    st.plotly_chart(plots.curves(events, ["reconstruction", "kl"], title=t("autoencoder.finetune.curves_title"),
                                 height=240), key="ae_ft_curves")
    last = next((e for e in reversed(events) if "samples" in e), None)
    if last is not None:
        pictures = np.concatenate([last["reconstructions"], last["samples"]]) / 255.0
        st.plotly_chart(plots.image_grid(pictures, title=t("autoencoder.finetune.pictures_title", step=last["step"], n=8),
                                         cols=8, height_per_row=80,
                                         colorscale="gray", zrange=(0, 1), gap=0.004), key="ae_ft_pictures")


ui.training_panel("ae_ft", finetune_autoencoder, dict(name="vae-fashion", lr=lr, steps=steps, beta=beta),
                  metrics=("reconstruction", "kl"), draw=draw_finetune, download_name="vae-fashion-finetuned.safetensors")
