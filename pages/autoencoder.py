"""Autoencoder / VAE page: squeeze garments through a small code and rebuild them; walk the VAE's
latent space, denoise, look at a sparse dictionary, and fine-tune the VAE with a beta slider."""
import numpy as np
import streamlit as st

from models.autoencoder import explore, figures
from models.autoencoder.recipe import finetune_autoencoder
from zoo import plots, ui
from zoo.data import fashion_mnist

ui.page_intro(
    "Autoencoder and variational autoencoder (VAE)",
    "An autoencoder squeezes each image through a code of 16 numbers and learns to rebuild it, so the "
    "code must keep what matters about the garment. A VAE (Kingma & Welling 2014) encodes each image as "
    "a small Gaussian cloud pulled towards a standard normal, so every point of its latent space decodes "
    "to a plausible garment: it can generate, not only compress.")

vae, vae_card = ui.shared_model("vae-fashion")
ae, ae_card = ui.shared_model("ae-fashion")
dae, dae_card = ui.shared_model("dae-fashion")
sae, sae_card = ui.shared_model("sae-fashion")
v = vae_card["metrics"]
st.caption(f"VAE: ELBO **{v['elbo_nats']:.1f} nats** per test image · FID of its samples **{v['fid']:.1f}** "
           f"(real images score {v['fid_real_floor']:.1f}) · {v['classes_covered']} of 10 classes covered. "
           f"Plain autoencoder: test reconstruction error **{ae_card['metrics']['reconstruction_mse']:.4f}** per pixel.")
for card in (vae_card, ae_card, dae_card, sae_card):
    ui.model_card(card)

ui.view_in_url("ae_source", "ae_gallery", "ae_x", "ae_y", "ae_noise", "ae_seed")
st.header("1. Your garment, rebuilt")
image, caption = ui.fashion_image_input("ae")
if image is None:
    st.stop()
batch = image.unsqueeze(0)
rebuilt = {"input": image[0].numpy(), "autoencoder": explore.reconstruct(ae, batch)[0],
           "VAE": explore.reconstruct(vae, batch)[0]}
columns = st.columns(3)
for column, (name, pixels) in zip(columns, rebuilt.items()):
    error = "" if name == "input" else f" · error {np.mean((pixels - rebuilt['input']) ** 2):.4f}"
    column.plotly_chart(plots.image(pixels, f"{name}{error}", height=230), key=f"ae_rebuilt_{name}")
st.caption(f"{caption}: both rebuild it from 16 numbers; the VAE's code is the centre of its Gaussian.")

st.header("2. The VAE's latent space")
st.markdown("Each dot is a test image encoded by the VAE, seen through the two directions along which the "
            "16-number codes vary most. Garments of a kind gather; your image is the star. **Click anywhere "
            "on the map** (or use the sliders) to decode that point.")


@st.cache_resource(show_spinner="Encoding the test images...")
def latent_view(model_name: str):
    sample = explore.map_sample()
    codes = explore.encode(ui.shared_model(model_name)[0], sample.floats())
    plane = explore.latent_plane(codes)
    return plane, plane.project(codes), sample.labels.numpy()


plane, points, labels = latent_view("vae-fashion")
reach = 3 * plane.spread
you = plane.project(explore.encode(vae, batch))[0]
a, b = st.columns(2)
x = a.slider("Direction 1", float(-reach[0]), float(reach[0]), 0.0, key="ae_x")
y = b.slider("Direction 2", float(-reach[1]), float(reach[1]), 0.0, key="ae_y")
picked = st.session_state.get("ae_picked")
if picked is not None:
    x, y = picked
clicks = (np.linspace(-reach[0], reach[0], 41), np.linspace(-reach[1], reach[1], 41))
left, right = st.columns([3, 1])
event = left.plotly_chart(figures.latent_map(points, labels, fashion_mnist.CLASSES, {"you": tuple(you), "decoded": (x, y)},
                                           clickable=clicks), key="ae_map", on_select="rerun", selection_mode="points")
chosen = [p for p in (event.selection.get("points", []) if event else []) if p.get("curve_number") == 0]
if chosen and (chosen[0]["x"], chosen[0]["y"]) != picked:
    st.session_state["ae_picked"] = (chosen[0]["x"], chosen[0]["y"])
    st.rerun()
right.plotly_chart(plots.image(explore.decode(vae, plane.lift([[x, y]]))[0], f"decoded ({x:.1f}, {y:.1f})",
                               height=230), key="ae_decoded")
if picked is not None and right.button("Back to the sliders", key="ae_unpick"):
    st.session_state.pop("ae_picked")
    st.rerun()
st.markdown("**The plane decoded on a grid**, two standard deviations each way: garments morph smoothly "
            "into one another, because the VAE leaves no holes in its latent space.")
st.plotly_chart(plots.image_grid(explore.plane_grid(vae, plane), title="The latent plane decoded on a grid", cols=9,
                                 height_per_row=70, colorscale="gray", zrange=(0, 1), gap=0.003), key="ae_grid")

st.subheader("Interpolate between two garments")
images, gallery_labels = ui.gallery()
name_of = lambda i: f"{i:02d}: {fashion_mnist.CLASSES[gallery_labels[i]]}"
a, b, c = st.columns([2, 2, 1])
first = a.selectbox("From", range(len(gallery_labels)), index=0, format_func=name_of, key="ae_from")
second = b.selectbox("To", range(len(gallery_labels)), index=1, format_func=name_of, key="ae_to")
steps = c.slider("Steps", 3, 12, 8, key="ae_steps")
st.plotly_chart(plots.image_grid(explore.interpolate(vae, images[[first, second]], steps),
                                 title=f"From {name_of(first)} to {name_of(second)} in {steps} steps", cols=steps,
                                 height_per_row=110, colorscale="gray", zrange=(0, 1), gap=0.004), key="ae_interpolation")
st.caption("The VAE's codes of the two images, joined by a straight line and decoded at evenly spaced points.")

st.header("3. Denoising")
st.markdown("A denoising autoencoder (Vincent et al. 2008) was trained to rebuild clean images from noisy ones, "
            "so it learned what garments look like rather than to copy its input. The plain autoencoder beside "
            "it never saw noise.")
noise = st.slider("Noise (standard deviation)", 0.0, 0.8, 0.3, step=0.05, key="ae_noise")
noisy = explore.add_noise(batch, noise)
views = {"noisy input": noisy[0, 0].numpy(), "denoising autoencoder": explore.reconstruct(dae, noisy)[0],
         "plain autoencoder": explore.reconstruct(ae, noisy)[0]}
for column, (name, pixels) in zip(st.columns(3), views.items()):
    error = np.mean((pixels - rebuilt["input"]) ** 2)
    column.plotly_chart(plots.image(pixels, f"{name} · error {error:.4f}", height=230), key=f"ae_denoise_{name}")
d = dae_card["metrics"]
st.caption(f"On the test set at noise 0.3 the denoiser's error is **{d['denoised_mse']:.4f}** per pixel, against "
           f"**{d['noisy_mse']:.4f}** for the noisy image itself.")

st.header("4. A sparse dictionary")
st.markdown(f"The sparse autoencoder has one dense layer of {sae.config.latent} units each way and pays for every "
            "unit it switches on (an L1 penalty on the code), so each image is built from a few parts. Each "
            "unit's decoder weights are one of those parts, drawn below as a 28x28 picture (red adds ink, "
            "blue removes it).")
st.plotly_chart(plots.image_grid(explore.dictionary(sae), title="Every unit's part: its decoder weights as 28x28",
                                 cols=16, height_per_row=60, symmetric=True, gap=0.003), key="ae_dictionary")
units, activations, atoms = explore.strongest_atoms(sae, image)
st.markdown(f"**The parts your garment is built from**: the {len(units)} strongest units, with their activation "
            f"({sae_card['metrics']['active_code_share']:.0%} of units are active for a typical test image).")
st.plotly_chart(plots.image_grid(atoms, title="The strongest units for your garment, with their activation",
                                 titles=[f"unit {u}: {a:.2f}" for u, a in zip(units, activations)],
                                 cols=len(units), height_per_row=110, symmetric=True), key="ae_atoms")

st.header("5. Garments from nowhere")
seed = st.number_input("Seed", 0, 10_000, 0, key="ae_seed")
st.plotly_chart(plots.image_grid(explore.samples(vae, 32, int(seed)), title=f"32 samples of seed {seed}", cols=16,
                                 height_per_row=70, colorscale="gray", zrange=(0, 1), gap=0.003), key="ae_samples")
shares = v["class_shares"]
st.caption("Codes drawn from the standard normal and decoded. Over 10,000 samples the CNN sees "
           + ", ".join(f"{name} {share:.0%}" for name, share in shares.items()) + ".")

st.header("6. Fine-tune the VAE: the beta trade-off")
st.markdown("The VAE's loss is reconstruction error plus beta times the KL divergence of the codes from the "
            "standard normal. Raise beta and the codes crowd towards the prior: samples get more typical, "
            "reconstructions blurrier. Lower it and reconstructions sharpen while the KL term grows. A private "
            "copy trains; the shared model stays as it is.")
a, b, c = st.columns(3)
beta = a.select_slider("Beta", options=[0.1, 0.25, 0.5, 1.0, 2.0, 4.0, 8.0], value=4.0, key="ae_beta")
lr = b.select_slider("Learning rate", options=[1e-4, 3e-4, 1e-3, 3e-3], value=1e-3, format_func=lambda v: f"{v:.0e}",
                     key="ae_lr")
steps = c.slider("Steps", 20, 400, 100, step=20, key="ae_ft_steps")


def draw_finetune(events: list[dict]) -> None:
    st.plotly_chart(plots.curves(events, ["reconstruction", "kl"], title="The two terms of the VAE's loss while it trains",
                                 height=240), key="ae_ft_curves")
    last = next((e for e in reversed(events) if "samples" in e), None)
    if last is not None:
        pictures = np.concatenate([last["reconstructions"], last["samples"]]) / 255.0
        st.plotly_chart(plots.image_grid(pictures, title=f"Step {last['step']}: reconstructions of 8 held-out images "
                                         "(top), samples from 8 fixed codes (bottom)", cols=8, height_per_row=80,
                                         colorscale="gray", zrange=(0, 1), gap=0.004), key="ae_ft_pictures")


ui.training_panel("ae_ft", finetune_autoencoder, dict(name="vae-fashion", lr=lr, steps=steps, beta=beta),
                  metrics=("reconstruction", "kl"), draw=draw_finetune, download_name="vae-fashion-finetuned.safetensors")
