"""zoo.inline_sources: the zoo's code a function reaches, copied into one piece of Python that runs without the zoo."""
import pytest

from zoo.inline_sources import InlinedSources, NotInlinable
from zoo.jobs import deadline
from zoo.training.loop import is_last, train_steps


def _script(code: InlinedSources) -> str:
    return "\n".join(code.import_lines()) + "\n\n" + "\n\n".join(d.text for d in code.definitions)


def test_a_copy_names_the_zoos_modules_attributes_plainly_and_comes_after_what_it_needs():
    code = InlinedSources()
    token = code.name_of(is_last)
    code.finish()
    assert code.named(token) == "is_last"
    names = [d.names for d in code.definitions]
    assert names.index(("STOPPED_EARLY",)) < names.index(("is_last",))
    script = _script(code)
    assert "deadline." not in script and 'or STOPPED_EARLY in event' in script
    assert code.definitions[-1].origin == "zoo/training/loop.py"
    namespace = {}
    exec(compile("from __future__ import annotations\n" + script, "copied", "exec"), namespace)
    assert namespace["is_last"]({"step": 3}, 3) and namespace["is_last"]({"step": 1, deadline.STOPPED_EARLY: "x"}, 3)
    assert not namespace["is_last"]({"step": 1}, 3)


def test_outside_packages_stay_imports_and_the_zoos_texts_come_in_english_only_as_asked():
    code = InlinedSources()
    code.name_of(train_steps)
    code.finish()
    assert code.import_lines() == ["import torch", "import time",  # deadline keeps time
                                   "from typing import Iterator", "from typing import Callable"]  # annotations
    assert code.packages() == ["torch"]
    assert code.stand_ins() == ["t"]  # wrap_up's note, through deadline
    texts = code.english_texts()
    assert texts and all(key.startswith("jobs.stopped_early.") for key in texts)
    assert texts["jobs.stopped_early.steps"].startswith("Stopped")


def test_a_name_that_would_hide_a_local_of_the_code_using_it_is_prefixed_with_its_module():
    from zoo.devices import pick_device  # its `device` is a local; `settings.device()` is what it calls

    code = InlinedSources()
    code.name_of(pick_device)
    code.finish()
    script = _script(code)
    assert "\ndef settings_device()" in "\n" + script and "wanted = settings_device()" in script


def test_an_annotation_naming_what_the_script_does_not_copy_is_left_out_with_its_import():
    from models.unet.recipe import with_new_class  # (model: UNet, margin: float = 1.0) -> UNet; UNet is not copied

    code = InlinedSources()
    code.name_of(with_new_class)
    code.name_of(train_steps)  # reaches deadline's `_clock: _Clock | None = None`; `_Clock` is not copied
    code.finish()
    script = _script(code)
    assert "\ndef with_new_class(model, margin: float = 1.0):\n" in script and "UNet" not in script
    assert "\n_clock = None\n" in script and "_Clock" not in script


def test_reserved_names_are_left_to_their_owner():
    code = InlinedSources(reserved={"is_last", "STOPPED_EARLY"})
    token = code.name_of(is_last)
    code.finish()
    assert code.named(token) == "loop_is_last"
    assert "loop_is_last" in code.definitions[-1].text and "deadline_STOPPED_EARLY" in code.definitions[-1].text


def test_what_is_not_at_the_top_of_a_module_cannot_be_copied():
    def inner():
        return 1

    with pytest.raises(NotInlinable, match="not defined at the top of its module"):
        InlinedSources().name_of(inner)
