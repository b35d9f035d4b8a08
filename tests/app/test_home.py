"""The home page through the real entry point: every model in a row with its figure, each row a link to
its page, nothing cut or scrolled away."""
from tests.app.conftest import open_page
from zoo import checkpoints


def _rows(at) -> dict[str, list[str]]:
    """Each row's cells after the page link (model, figure, data, parameters, device), by checkpoint name."""
    cells = [m.value for m in at.main.markdown]
    starts = [i for i, cell in enumerate(cells) if "\n`" in cell]  # the model cell: "title  \n`name`"
    return {cells[i].split("`")[1]: cells[i:i + 5] for i in starts}


def test_home_lists_every_model_with_its_figure_and_a_link_to_its_page():
    at = open_page()
    assert at.title[0].value.endswith("Deep Learning Zoo")
    assert not at.main.get("arrow_data_frame")  # no table that cuts its cells and scrolls inside itself
    cards = checkpoints.available()
    rows = _rows(at)
    assert set(rows) == set(cards)
    for name, (model, figure, data, parameters, device) in rows.items():
        assert model.startswith(cards[name]["title"]) and figure and figure != "–", name
        assert device == cards[name]["device"] and parameters == f"{cards[name]['parameters']:,}"
    assert rows["cnn-fashion"][1].endswith("% accuracy")
    assert rows["transformer-text"][1].endswith("bits per character")
    assert rows["dqn-cartpole"][1].startswith("mean return 500.0 of 500")
    links = [link.proto.page for link in at.main.get("page_link")]
    assert len(links) == len(cards)
    assert sorted(links) == sorted(checkpoints.package(name) for name in cards)
    assert any("Running on" in c.value for c in at.sidebar.caption)
