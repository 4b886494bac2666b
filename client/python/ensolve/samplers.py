"""Inputs drawn on the server: uniform boxes, normal draws and grids.

Trajectory i's draw depends only on (seed, i, dimension), so the same request gives the
same values on any server with any batch size. Pass a sampler as `p=` or `u0=`:

    client.solve(model, p=ensolve.uniform([0, 0, 0], [10, 28, 8 / 3], seed=1), n=10000)
    client.solve(model, p=ensolve.grid([0, 28, 8 / 3], [0, 28, 8 / 3], [1, 1, 1]))
"""

from typing import Sequence

from ensolve.v1 import solver_pb2 as pb


class Sampler:
    """A server-side sampler; build one with uniform(), normal() or grid()."""

    def __init__(self, message: pb.Sampler):
        self.message = message

    def __repr__(self) -> str:
        kind = self.message.WhichOneof("distribution")
        return f"ensolve.Sampler({kind}, seed={self.message.seed})"


def _floats(name: str, values) -> list:
    try:
        return [float(v) for v in values]
    except TypeError:
        return [float(values)]
    except ValueError as e:
        raise ValueError(f"{name}: {e}") from None


def uniform(lo: Sequence[float], hi: Sequence[float], seed: int = 0) -> Sampler:
    """Independent uniform draws in [lo[d], hi[d]) (lo == hi: a constant)."""
    lo, hi = _floats("lo", lo), _floats("hi", hi)
    if len(lo) != len(hi):
        raise ValueError(f"uniform: lo has {len(lo)} values, hi {len(hi)}")
    return Sampler(pb.Sampler(seed=int(seed), uniform=pb.UniformBox(lo=lo, hi=hi)))


def normal(mean: Sequence[float], stddev: Sequence[float], seed: int = 0) -> Sampler:
    """Independent normal draws per dimension (stddev >= 0)."""
    mean, stddev = _floats("mean", mean), _floats("stddev", stddev)
    if len(mean) != len(stddev):
        raise ValueError(f"normal: mean has {len(mean)} values, stddev {len(stddev)}")
    return Sampler(pb.Sampler(seed=int(seed), normal=pb.Normal(mean=mean, stddev=stddev)))


def grid(lo: Sequence[float], hi: Sequence[float], points: Sequence[int]) -> Sampler:
    """The Cartesian product of points[d] evenly spaced values from lo[d] to hi[d]
    inclusive (points[d] == 1: lo[d]); the last dimension varies fastest."""
    lo, hi = _floats("lo", lo), _floats("hi", hi)
    try:
        points = [int(p) for p in points]
    except TypeError:
        points = [int(points)]
    if not len(lo) == len(hi) == len(points):
        raise ValueError(f"grid: lo, hi and points have {len(lo)}, {len(hi)}, {len(points)} "
                         "values")
    return Sampler(pb.Sampler(grid=pb.Grid(lo=lo, hi=hi, points=points)))
