"""What every recipe of a shipped torch module shares: the module's class, its default config
(a dataclass, passed whole), and a title. Each kind of recipe adds how it trains and measures."""
from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any

import torch


@dataclass
class ModuleRecipe:
    model_class: type[torch.nn.Module]
    config: Any
    title: str

    def config_dict(self) -> dict[str, Any]:
        return asdict(self.config)

    def build(self, config: dict[str, Any] | None = None) -> torch.nn.Module:
        """The module from a card's config (the default config when None)."""
        values = self.config_dict() if config is None else config
        return self.model_class(type(self.config)(**values))
