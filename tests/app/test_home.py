"""The home page through the real entry point."""
from tests.app.conftest import open_page


def test_home_lists_the_models_with_their_figures():
    at = open_page()
    assert at.title[0].value.endswith("Deep Learning Zoo")
    table = at.dataframe[0].value
    assert "cnn-fashion" in table["checkpoint"].tolist()
    row = table[table["checkpoint"] == "cnn-fashion"].iloc[0]
    assert row["held-out figure"].endswith("% accuracy")
    transformer = table[table["checkpoint"] == "transformer-text"].iloc[0]
    assert transformer["held-out figure"].endswith("bits per character")
    assert any("Running on" in c.value for c in at.sidebar.caption)
