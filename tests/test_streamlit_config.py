"""The server's Streamlit settings protect a shared server: no traceback reaches a visitor, and no
WebSocket message (typed text included) may be much larger than an upload."""
import tomllib
from pathlib import Path

CONFIG = tomllib.loads((Path(__file__).resolve().parents[1] / ".streamlit" / "config.toml").read_text())


def test_visitors_never_see_tracebacks():
    assert CONFIG["client"]["showErrorDetails"] == "none"


def test_messages_are_bounded_near_the_upload_cap():
    assert CONFIG["server"]["maxUploadSize"] <= CONFIG["server"]["maxMessageSize"] <= 2 * CONFIG["server"]["maxUploadSize"]
