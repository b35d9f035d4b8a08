"""zoo.export: a run written as a script repeats the job's numbers outside the app and saves its weights; scripts
of each kind run a few steps of their job and print its numbers, without the zoo on the path unless they load a
shipped checkpoint (tests/bench/bench_export_scripts.py runs every page's); every page's job writes a script that
compiles, imports nothing of the zoo but zoo.checkpoints and reads back the page's settings; what cannot be
written is refused."""
import dataclasses
import io
import os
import runpy
import subprocess
import sys
import zipfile
from pathlib import Path

import numpy as np
import pytest
import torch
from safetensors.torch import load_file

from models.autoencoder.recipe import finetune_autoencoder
from models.diffusion.recipe import finetune_diffusion
from models.dqn.env import CARTPOLE_PHYSICS
from models.dqn.recipe import finetune_dqn
from models.gan.recipe import finetune_gan
from models.gnn import explore as gnn_explore, recipe as gnn_recipe
from models.resnet.plain_vs_residual import compare_training
from models.resnet.transfer import transfer
from models.rnn.forecast import forecast_series
from models.self_supervised.recipe import finetune_simclr
from models.unet.recipe import finetune_unet
from models.word2vec.recipe import Word2VecConfig, train_vectors
from tests.helpers import consume
from zoo import checkpoints, i18n
from zoo.data import fashion_mnist, graphs
from zoo.export import MAX_SIDECAR_MB, NotExportable, export_run
from zoo.training.char_lm import finetune_charlm
from zoo.training.image_classifier import finetune_classifier

ROOT = Path(__file__).resolve().parents[2]
TEXT = "It was the best of times, it was the worst of times.\r\nБыло лучшее время. 那是最好的时代。\n" * 20
"""a person's text: too long and too many lines for a literal, so it travels in a sidecar, byte for byte"""


def _numbers(event: dict, prefix: str = "") -> dict:
    """What the script prints of an event: its numbers, nested ones as `before.test`."""
    found = {}
    for key, value in event.items():
        if isinstance(value, dict):
            found.update(_numbers(value, f"{prefix}{key}."))
        elif isinstance(value, (int, float, np.number)) and not isinstance(value, bool):
            found[f"{prefix}{key}"] = value
    return found


def _printed(stdout: str) -> list[dict]:
    """The script's event lines as {name: number}."""
    return [{key: float(value) for key, value in (pair.split("=") for pair in line.split())}
            for line in stdout.splitlines() if line and all("=" in pair for pair in line.split())]


TIMINGS = {"elapsed_s", "seconds", "words_per_s"}
"""the numbers of an event that measure the clock, not the run: they differ from one run to the next"""


def _run_exported(job, kwargs: dict, folder: Path, stem: str = "run") -> subprocess.CompletedProcess:
    """Write the run's download into `folder` (unzipped when it is a zip) and run its script there."""
    exported = export_run(job, kwargs, page="test", stem=stem, weights_file=f"{stem}.safetensors")
    data = exported.data()
    if exported.file_name.endswith(".zip"):
        zipfile.ZipFile(io.BytesIO(data)).extractall(folder)
    else:
        (folder / exported.file_name).write_bytes(data)
    env = {key: value for key, value in os.environ.items() if key != "PYTHONPATH"} | {"OMP_NUM_THREADS": "1"}
    if "\nfrom zoo import checkpoints\n" in exported.script:  # else it runs without the zoo on its path
        env["PYTHONPATH"] = str(ROOT)
    done = subprocess.run([sys.executable, str(folder / f"{stem}.py")], cwd=folder, env=env, capture_output=True,
                          text=True, timeout=600)
    assert done.returncode == 0, done.stderr
    return done


def _job_events(job, kwargs: dict) -> list[dict]:
    """The job's events in this process, on one thread as its script runs (another thread count sums in
    another order: the self-supervised loss then differed by 7e-4 at step 2)."""
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        return consume(job(**kwargs))[0]
    finally:
        torch.set_num_threads(threads)


def _assert_same_numbers(stdout: str, events: list[dict]) -> None:
    expected = [{k: float(v) for k, v in _numbers(e).items()} for e in events if _numbers(e)]
    printed = _printed(stdout)
    assert len(printed) == len(expected) >= 3
    for line, event in zip(printed, expected):
        assert line.keys() == event.keys()
        measured = [key for key in line if key.rpartition(".")[2] not in TIMINGS]
        assert {k: line[k] for k in measured} == pytest.approx({k: event[k] for k in measured}, rel=1e-5, abs=1e-8)


def test_the_cnn_fine_tune_script_prints_the_jobs_numbers_and_saves_loadable_weights(tmp_path):
    kwargs = dict(name="cnn-fashion", lr=3e-4, steps=3, n_train=256, n_test=100, eval_every=2)
    done = _run_exported(finetune_classifier, kwargs, tmp_path, "cnn-fashion-finetuned")
    events = _job_events(finetune_classifier, kwargs)
    _assert_same_numbers(done.stdout, events)
    model, _ = checkpoints.load("cnn-fashion", "cpu")
    model.load_state_dict(load_file(tmp_path / "cnn-fashion-finetuned.safetensors"))


def test_a_run_on_uploaded_images_travels_with_its_sidecar_and_repeats(tmp_path):
    sample = fashion_mnist.load_sample()
    chosen = np.concatenate([np.nonzero(sample.labels.numpy() == c)[0][:6] for c in (1, 7)])
    kwargs = dict(name="cnn-fashion", lr=1e-3, steps=3, n_test=100, eval_every=1,
                  images=sample.images.numpy()[chosen], labels=sample.labels.numpy()[chosen])
    done = _run_exported(finetune_classifier, kwargs, tmp_path)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["run.npz", "run.py", "run.safetensors"]
    events = _job_events(finetune_classifier, kwargs)
    _assert_same_numbers(done.stdout, events)


def _karate() -> graphs.Graph:
    return graphs.BUILT_IN["Zachary's karate club"]()


PAGE_RUNS = {
    "CNN": (finetune_classifier, dict(name="cnn-fashion", lr=3e-5, steps=100, n_test=2000, n_train=2000)),
    "MLP": (finetune_classifier, dict(name="mlp-fashion", lr=3e-5, steps=100, n_train=2000, n_test=2000)),
    "ResNet comparison": (compare_training, dict(blocks=5, width=8, batch_norm=False, steps=150)),
    "ResNet transfer": (transfer, dict(name="resnet-fashion", images=np.zeros((8, 28, 28), np.uint8),
                                       labels=np.repeat([0, 1], 4), classes=["cat", "dog"], mode="features", lr=3e-3,
                                       steps=60)),
    "RNN char LM": (finetune_charlm, dict(name="lstm-text", person_text=TEXT, lr=3e-4, steps=100)),
    "RNN forecast": (forecast_series, dict(values=np.linspace(300, 420, 600), horizon=24, season=12, cell="lstm",
                                           steps=300)),
    "Transformer": (finetune_charlm, dict(name="transformer-text", person_text=TEXT, lr=3e-4, steps=100)),
    "Word2Vec": (train_vectors, dict(text=TEXT, config=Word2VecConfig(vector_size=50, epochs=50, workers=1))),
    "Autoencoder": (finetune_autoencoder, dict(name="vae-fashion", lr=1e-3, steps=100, beta=1.0)),
    "GAN": (finetune_gan, dict(name="dcgan-fashion", steps=100, g_lr=2e-4, d_lr=2e-4, d_steps=1)),
    "Diffusion": (finetune_diffusion, dict(name="diffusion-fashion", lr=1e-4, steps=100, label=3,
                                           images=np.full((8, 28, 28), 200, np.uint8))),
    "U-Net": (finetune_unet, dict(name="unet-shapes", lr=1e-3, steps=80, new_kind="star", noise=0.08)),
    "GNN": (gnn_recipe.train_live, dict(graph=_karate(), labelled=list(range(0, 34, 2)),
                                        settings=gnn_recipe.Settings(kind="gat"))),
    "GNN comparison": (gnn_explore.accuracy_vs_labels, dict(graph=_karate(), settings=gnn_recipe.Settings())),
    "GNN depth": (gnn_explore.over_smoothing, dict(graph=_karate(), labelled=[0, 33], settings=gnn_recipe.Settings())),
    "DQN": (finetune_dqn, dict(name="dqn-cartpole", physics=dict(CARTPOLE_PHYSICS, length=0.8), steps=5000, lr=1e-3,
                               epsilon=0.3)),
    "Self-supervised": (finetune_simclr, dict(name="simclr-fashion", lr=1e-4, steps=100, temperature=0.5,
                                              n_train=2000)),
}


SHORT_RUNS = {  # (the CNN's is the first test's)
    "ResNet comparison": (compare_training, dict(blocks=2, width=4, steps=4, n_train=256, report_every=2)),
    "ResNet transfer": PAGE_RUNS["ResNet transfer"][:1] + (dict(PAGE_RUNS["ResNet transfer"][1], steps=3,
                                                                eval_every=1),),
    "RNN char LM": (finetune_charlm, dict(name="lstm-text", person_text=TEXT * 2, steps=3, eval_every=1, sample_every=2,
                                          sample_chars=20, original_chars=2000)),
    "RNN forecast": (forecast_series, dict(PAGE_RUNS["RNN forecast"][1], steps=4, report_every=2)),
    "Transformer": (finetune_charlm, dict(name="transformer-text", person_text=TEXT * 2, steps=3, eval_every=1,
                                          sample_every=2, sample_chars=20, original_chars=2000)),
    "Word2Vec": (train_vectors, dict(text=TEXT, config=Word2VecConfig(vector_size=20, epochs=3, workers=1, min_count=1))),
    "Autoencoder": (finetune_autoencoder, dict(name="vae-fashion", lr=1e-3, steps=3, n_train=256, sample_every=2)),
    "GAN": (finetune_gan, dict(name="dcgan-fashion", steps=3, n_train=256, sample_every=2)),
    "Diffusion": (finetune_diffusion, dict(PAGE_RUNS["Diffusion"][1], steps=3, sample_every=2, sample_steps=2)),
    "U-Net": (finetune_unet, dict(name="unet-shapes", steps=3, n_scenes=40, n_held_out=8, eval_every=2)),
    "GNN": (gnn_recipe.train_live, dict(PAGE_RUNS["GNN"][1], settings=gnn_recipe.Settings(kind="gat", epochs=6),
                                        frames=3)),
    "GNN comparison": (gnn_explore.accuracy_vs_labels, dict(graph=_karate(), settings=gnn_recipe.Settings(epochs=6),
                                                            repeats=1)),
    "GNN depth": (gnn_explore.over_smoothing, dict(PAGE_RUNS["GNN depth"][1], settings=gnn_recipe.Settings(epochs=6),
                                                   depths=[2, 3, 4])),
    "DQN": (finetune_dqn, dict(PAGE_RUNS["DQN"][1], steps=600, eval_every=300, eval_episodes=2, replay_seconds=0.0)),
    "Self-supervised": (finetune_simclr, dict(name="simclr-fashion", lr=1e-4, steps=3, n_train=256, batch_size=32,
                                              eval_every=3)),  # (each k-NN measure embeds 3,000 images)
}
"""each page's job in a few steps: what its exported script must repeat"""


CHECKED_IN_CI = ("Transformer", "RNN forecast", "Word2Vec", "GNN", "DQN")
"""the short runs the suite repeats: one of each kind the CNN's test does not cover (a text sidecar and the English
stand-ins, no zoo on the path, gensim, a dataclass setting and torch_geometric, gymnasium); all of them take
about 100 s more, which tests/bench/bench_export_scripts.py spends"""


@pytest.mark.parametrize("page", CHECKED_IN_CI)
def test_pages_scripts_repeat_the_first_steps_of_their_jobs(page, tmp_path):
    job, kwargs = SHORT_RUNS[page]
    done = _run_exported(job, kwargs, tmp_path)
    events = _job_events(job, kwargs)
    _assert_same_numbers(done.stdout, events)


def _same(a, b) -> bool:
    if isinstance(a, np.ndarray) or isinstance(b, np.ndarray):
        return np.array_equal(a, b)
    if dataclasses.is_dataclass(a):  # the script's class is a copy of the zoo's
        return type(a).__name__ == type(b).__name__ and all(_same(getattr(a, f.name), getattr(b, f.name)) for f in dataclasses.fields(a))
    if isinstance(a, (list, tuple)):
        return type(a) is type(b) and len(a) == len(b) and all(map(_same, a, b))
    if isinstance(a, dict):
        return a.keys() == b.keys() and all(_same(a[k], b[k]) for k in a)
    return a == b


@pytest.mark.parametrize("page", PAGE_RUNS)
def test_every_pages_run_writes_a_script_that_compiles_and_reads_back_its_settings(page, tmp_path):
    job, kwargs = PAGE_RUNS[page]
    exported = export_run(job, kwargs, page=page, stem="run", weights_file="run.safetensors")
    data = exported.data()
    if exported.file_name.endswith(".zip"):
        zipfile.ZipFile(io.BytesIO(data)).extractall(tmp_path)
    else:
        (tmp_path / "run.py").write_bytes(data)
    script = (tmp_path / "run.py").read_text()
    compile(script, "run.py", "exec")
    if "seed" in job.__code__.co_varnames[:job.__code__.co_argcount]:
        assert "\nseed = 0  # int, the job's default; the same seed repeats the run\n" in script
    imports = [line for line in script.splitlines() if line.startswith(("import ", "from "))]
    assert not [line for line in imports if line.split()[1].split(".")[0] in ("zoo", "models")
                and line != "from zoo import checkpoints"]
    assert ("from zoo import checkpoints" in imports) == isinstance(kwargs.get("name"), str)
    assert f"\ndef {job.__name__}(" in script  # the job itself, copied
    settings = runpy.run_path(str(tmp_path / "run.py"), run_name="exported")  # the settings, without the run
    assert settings[job.__name__].__doc__ == job.__doc__
    for name, value in kwargs.items():
        assert _same(settings[name], value), name


def listing_job(numbers: list, mixed: list, pair: tuple = (1, "a")):
    """A job whose settings are lists, for the writer's test below."""
    yield {"step": 0}


def test_long_lists_of_one_kind_travel_in_the_sidecar_and_all_lists_come_back_as_they_were(tmp_path):
    kwargs = dict(numbers=list(range(100)), mixed=[1, "a"] * 60)
    exported = export_run(listing_job, kwargs, page="test", stem="run")
    assert list(exported.arrays) == ["numbers"]  # a mixed list would come back as strings from an array
    zipfile.ZipFile(io.BytesIO(exported.data())).extractall(tmp_path)
    settings = runpy.run_path(str(tmp_path / "run.py"), run_name="exported")
    assert settings["numbers"] == kwargs["numbers"] and settings["mixed"] == kwargs["mixed"]
    assert settings["pair"] == (1, "a")


def test_a_setting_named_like_the_scripts_own_names_is_refused():
    with pytest.raises(NotExportable, match="its setting 'main' has a name the script needs"):
        export_run(listing_job, dict(numbers=[1], mixed=[2], main=3), page="test", stem="run")


def test_copied_code_named_like_a_setting_or_a_local_of_its_caller_is_renamed(tmp_path):
    exported = export_run(finetune_classifier, dict(name="cnn-fashion", lr=1e-3, steps=3, fashion_pieces=1),
                          page="cnn", stem="run")  # (a setting the job does not take, only to hold the name)
    assert "\ndef image_classifier_fashion_pieces(" in exported.script  # `fashion_pieces` is the setting's
    assert "\ndef settings_device(" in exported.script  # `pick_device` has a local `device`
    compile(exported.script, "run.py", "exec")


def test_a_setting_that_lives_only_in_the_app_is_refused_with_a_sentence():
    with pytest.raises(NotExportable, match=r"^This run cannot be exported as a script: its setting 'name' \(object\)"):
        export_run(finetune_classifier, dict(name=object(), lr=1e-3, steps=3), page="cnn", stem="run")


def test_data_beyond_the_budget_is_refused_with_a_sentence():
    images = np.zeros((MAX_SIDECAR_MB * 2 ** 20 // 784 + 1, 28, 28), np.uint8)
    with pytest.raises(NotExportable, match=rf"is more than the {MAX_SIDECAR_MB} MB a script export carries"):
        export_run(finetune_classifier, dict(name="cnn-fashion", lr=1e-3, steps=3, images=images,
                                             labels=np.zeros(len(images), np.int64)), page="cnn", stem="run")


def test_a_job_defined_in_a_page_is_refused():
    def job(steps: int):
        yield {"step": steps}

    with pytest.raises(NotExportable, match="its job is defined inside the page"):
        export_run(job, dict(steps=3), page="cnn", stem="run")


def test_why_a_run_cannot_be_exported_is_said_in_the_readers_language():
    def inside():
        yield {}

    with i18n.speaking("zh"), pytest.raises(NotExportable, match="它的任务是在页面内部定义的"):
        export_run(inside, {}, "cnn", "run")
