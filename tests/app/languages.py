"""What a page shows a reader, as text, and the English left in a Chinese or Russian page."""
from __future__ import annotations

import json
import re
from typing import Any, Iterator

from streamlit.testing.v1 import AppTest

from zoo import i18n

TEXT_FIELDS = {"body", "label", "help", "placeholder", "options", "title", "caption", "value", "default_value_text"}
"""the proto fields of elements and widgets that hold text a person reads"""
DATA_ELEMENTS = {"json", "code"}
"""elements that show data as it is (a model card's JSON, generated text, code), not sentences of the zoo's"""
PLOTLY_TEXT = {"text", "name", "ticktext", "hovertemplate"}
"""the keys of a Plotly figure's JSON that hold text a person reads (titles are {"text": ...})"""
NAMES = ("English", "Fashion-MNIST", "Deep Learning Zoo", "King James", "Karate Club", "CartPole", "Grad-CAM", "SmoothGrad",
         "SimCLR", "Word2Vec", "PyTorch", "Streamlit", "Plotly", "Adam", "ReLU", "GELU", "Softmax", "ResNet", "U-Net",
         "DCGAN", "DDPM", "DDIM", "SDEdit", "Transformer", "Skip-gram", "CBOW", "LeCun", "Zachary", "Ray", "Frechet Inception Distance")
"""proper names that stay in English in every language"""
_CODE = re.compile(r"~~~.*?~~~|```.*?```|`[^`]*`|\$[^$]*\$|https?://\S+|\]\([^)]*\)|<[^>]+>|\{[^}]*\}", re.S)
_WORD = r"(?<![\w-])[A-Za-z]{2,}(?:['’-][A-Za-z]+)*(?![\w-])"
_ENGLISH_RUN = re.compile(rf"{_WORD}(?:[ ,;:()/]+{_WORD})+")
_NATIVE = re.compile(r"[\u0400-\u04ff\u3000-\u9fff\uff00-\uffef]")


def visible_texts(at: AppTest) -> list[str]:
    """Every text of every element drawn in the main area and the sidebar, Plotly figures' texts included."""
    texts: list[str] = []
    for node in _nodes(at._tree):
        proto = getattr(node, "proto", None)
        if proto is None or getattr(node, "type", None) in DATA_ELEMENTS:
            continue
        texts.extend(_proto_texts(proto))
    return [text for text in texts if text.strip()]


def english_left(text: str, own_words: frozenset[str] = frozenset()) -> list[str]:
    """The English left in a Chinese or Russian text: runs of two or more English words, or any English word
    in a text with no Chinese or Cyrillic letter; acronyms (CNN, t-SNE), code, formulas, links, the proper
    names above and `own_words` (those of the text the page reads, the models' English input) do not count."""
    for name in NAMES:
        text = text.replace(name, " ")
    text = _CODE.sub(" ", text)
    def counts(word: str) -> bool:
        return not _acronym(word) and word not in own_words

    words = [word for word in re.findall(_WORD, text) if counts(word)]
    if not words:
        return []
    if not _NATIVE.search(text):
        return [" ".join(words)]
    return [run for run in _ENGLISH_RUN.findall(text) if sum(counts(w) for w in re.findall(_WORD, run)) >= 2]


def _acronym(word: str) -> bool:
    """CNN, GRU, t-SNE, kNN: a word with at most one lower-case letter outside its capitals."""
    return sum(c.islower() for c in word) <= 1


def input_words(at: AppTest) -> frozenset[str]:
    """The words of the texts typed into the page's boxes (English the models read, shown back in their charts)."""
    typed = [box.value or "" for box in [*at.text_area, *at.text_input]]
    return frozenset(word for text in typed for word in re.findall(_WORD, text))


def keys_shown(texts: list[str]) -> list[str]:
    """Texts that are a catalogue key itself: a key passed on without `t`."""
    keys = set(i18n.catalogue())
    return [text for text in texts if text.strip() in keys]


def _nodes(node: Any) -> Iterator[Any]:
    yield node
    for child in getattr(node, "children", {}).values():
        yield from _nodes(child)


def _proto_texts(message: Any) -> Iterator[str]:
    for field, value in message.ListFields():
        if field.name == "spec" and isinstance(value, str) and value.startswith("{"):
            yield from _plotly_texts(json.loads(value))
        elif field.type == field.TYPE_MESSAGE:
            for item in (value if field.is_repeated else [value]):
                yield from _proto_texts(item)
        elif field.name in TEXT_FIELDS and field.type == field.TYPE_STRING:
            yield from (value if field.is_repeated else [value])


def _plotly_texts(spec: Any, key: str = "") -> Iterator[str]:
    if isinstance(spec, dict):
        for name, value in spec.items():
            if name not in ("data",) or isinstance(value, list):
                yield from _plotly_texts(value, name)
    elif isinstance(spec, list):
        if key in ("text", "ticktext"):
            yield from (str(item) for item in spec if isinstance(item, str))
        else:
            for item in spec:
                yield from _plotly_texts(item, key)
    elif isinstance(spec, str) and key in PLOTLY_TEXT:
        yield spec
