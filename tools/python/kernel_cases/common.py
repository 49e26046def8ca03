"""Helpers shared by the fixture families: seeded random tensors and case bookkeeping."""
import torch


def generator(seed: int) -> torch.Generator:
    return torch.Generator().manual_seed(seed)


def randn(shape, gen: torch.Generator, scale: float = 1.0) -> torch.Tensor:
    return torch.randn(*shape, generator=gen, dtype=torch.float32) * scale


def uniform(shape, gen: torch.Generator, low: float, high: float) -> torch.Tensor:
    return torch.rand(*shape, generator=gen, dtype=torch.float32) * (high - low) + low


class Cases:
    """Collects tensors as "<case>.<role>" and the case list with its parameters."""

    def __init__(self) -> None:
        self.tensors: dict[str, torch.Tensor] = {}
        self.cases: list[dict] = []

    def add(self, name: str, params: dict, **tensors: torch.Tensor) -> None:
        assert all(c["name"] != name for c in self.cases), f"duplicate case {name}"
        self.cases.append({"name": name, **params})
        for role, tensor in tensors.items():
            self.tensors[f"{name}.{role}"] = tensor

    def result(self):
        return self.tensors, self.cases
