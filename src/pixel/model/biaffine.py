"""Biaffine scorer of the dependency-parsing head (Dozat & Manning; the original `models/biaffine.py`)."""

from __future__ import annotations

import torch
from torch import nn


class Biaffine(nn.Module):
    """`s[b, o, i, j] = [x_bi; 1] W_o [y_bj; 1]` with the constant-1 feature only where bias_x / bias_y.

    weight: [n_out, n_in + bias_x, n_in + bias_y], initialised to zeros (as the original).
    """

    def __init__(self, n_in: int, n_out: int = 1, bias_x: bool = True, bias_y: bool = True) -> None:
        super().__init__()
        self.n_in, self.n_out, self.bias_x, self.bias_y = n_in, n_out, bias_x, bias_y
        self.weight = nn.Parameter(torch.zeros(n_out, n_in + int(bias_x), n_in + int(bias_y)))

    def extra_repr(self) -> str:
        return f"n_in={self.n_in}, n_out={self.n_out}, bias_x={self.bias_x}, bias_y={self.bias_y}"

    def forward(self, x: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
        """x: [B, Lx, n_in]; y: [B, Ly, n_in] -> scores [B, n_out, Lx, Ly]."""
        if self.bias_x:
            x = torch.cat([x, x.new_ones(*x.shape[:-1], 1)], dim=-1)
        if self.bias_y:
            y = torch.cat([y, y.new_ones(*y.shape[:-1], 1)], dim=-1)
        return torch.einsum("bxi,oij,byj->boxy", x, self.weight, y)
