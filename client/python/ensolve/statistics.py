"""Ensemble statistics computed on the server (SolveRequest.reductions): NumPy arrays shaped
(save points, quantities)."""

from dataclasses import dataclass, field
from typing import Dict, List, Optional, Sequence

import numpy as np

from ensolve import _tensor
from ensolve.v1 import solver_pb2 as pb

# What solve(reduce=...) takes, and the proto value of each.
STATISTICS = {"mean": pb.STATISTIC_MEAN, "var": pb.STATISTIC_VARIANCE,
              "variance": pb.STATISTIC_VARIANCE, "min": pb.STATISTIC_MIN,
              "max": pb.STATISTIC_MAX, "hist": pb.STATISTIC_HISTOGRAM,
              "histogram": pb.STATISTIC_HISTOGRAM}


def reductions_message(reduce: Sequence[str], hist, keep_states: bool,
                       partial_seconds: float = 0.0) -> pb.Reductions:
    """The Reductions of solve(reduce=..., hist=..., keep_states=...)."""
    if isinstance(reduce, str):
        reduce = [reduce]
    r = pb.Reductions(keep_states=bool(keep_states), partial_seconds=float(partial_seconds))
    names = list(reduce or [])
    if hist is not None and not any(STATISTICS.get(n) == pb.STATISTIC_HISTOGRAM for n in names):
        names.append("hist")
    seen = set()
    for name in names:
        s = STATISTICS.get(name)
        if s is None:
            raise ValueError(f"reduce: unknown statistic {name!r} (one of "
                             f"{', '.join(sorted(STATISTICS))})")
        if s not in seen:
            r.statistics.append(s)
            seen.add(s)
    if pb.STATISTIC_HISTOGRAM in seen:
        if hist is None:
            raise ValueError("reduce: 'hist' needs hist=edges (bins + 1 increasing values, or "
                             "one row per quantity)")
        edges = np.asarray(hist, dtype=np.float64)
        r.histogram_edges.CopyFrom(_tensor.from_numpy(edges, "hist"))
    if not r.statistics:
        raise ValueError("reduce: name at least one statistic")
    return r


@dataclass
class Statistics:
    """Statistics across the trajectories of an ensemble, per save point and quantity.

    Only trajectories that succeeded enter, and of their values only finite ones:
    count[j, k] values entered cell (t[j], quantities[k]); nonfinite[j, k] were NaN or
    infinite; `failed` trajectories did not succeed (retcode_counts says why). mean, var
    (unbiased, ddof=1), min and max are NaN where undefined and None when not asked for.
    hist[j, k, b] counts edges[b] <= x < edges[b + 1] (the last bin includes its right edge,
    as numpy.histogram); underflow/overflow count values outside the edges.
    """

    t: np.ndarray  # (save points,) float64; empty when the save times are per trajectory
    quantities: List[str]
    trajectories: int
    failed: int
    count: np.ndarray  # (save points, quantities) int64
    nonfinite: np.ndarray
    mean: Optional[np.ndarray] = None
    var: Optional[np.ndarray] = None
    min: Optional[np.ndarray] = None
    max: Optional[np.ndarray] = None
    hist: Optional[np.ndarray] = None  # (save points, quantities, bins) int64
    underflow: Optional[np.ndarray] = None
    overflow: Optional[np.ndarray] = None
    edges: Optional[np.ndarray] = None  # (bins + 1,) or (quantities, bins + 1)
    final: bool = True
    batches: int = 0
    summary: Dict = field(default_factory=dict)

    @property
    def std(self) -> Optional[np.ndarray]:
        return None if self.var is None else np.sqrt(self.var)

    @classmethod
    def from_proto(cls, info: pb.ReductionInfo, r: pb.ReductionResult, t, edges=None):
        shape = (info.save_points, len(info.quantities))

        def get(name, dims=shape):
            if not r.HasField(name):
                return None
            a = _tensor.to_numpy(getattr(r, name))
            if a.shape != dims:
                raise ValueError(f"ReductionResult.{name}: shape {a.shape}, expected {dims}")
            return a.copy()

        s = cls(t=np.asarray(t, dtype=np.float64), quantities=list(info.quantities),
                trajectories=r.trajectories, failed=r.failed, count=get("count"),
                nonfinite=get("nonfinite"), mean=get("mean"), var=get("variance"),
                min=get("min"), max=get("max"), final=r.final, batches=r.batches,
                edges=None if edges is None else np.asarray(edges, dtype=np.float64))
        if s.count is None or s.nonfinite is None:
            raise ValueError("ReductionResult: count and nonfinite are required")
        h = get("histogram", shape + (info.bins + 2,)) if info.bins > 0 else None
        if h is not None:
            s.underflow, s.hist, s.overflow = h[..., 0], h[..., 1:-1], h[..., -1]
        return s

    def __repr__(self) -> str:
        got = [n for n in ("mean", "var", "min", "max", "hist") if getattr(self, n) is not None]
        return (f"<ensolve.Statistics {', '.join(got)} over {self.trajectories} trajectories "
                f"({self.failed} failed) x {self.count.shape[0]} save points x "
                f"{len(self.quantities)} quantities>")

    def to_xarray(self):
        """An xarray.Dataset over (time, quantity) (and bin for the histogram)."""
        try:
            import xarray as xr
        except ImportError as e:
            raise ImportError("to_xarray() needs xarray (apt-get install python3-xarray)") from e
        dims = ("time", "quantity")
        coords = {"quantity": self.quantities}
        if len(self.t) == self.count.shape[0]:
            coords["time"] = self.t
        data = {"count": (dims, self.count), "nonfinite": (dims, self.nonfinite)}
        for name in ("mean", "var", "min", "max", "underflow", "overflow"):
            if getattr(self, name) is not None:
                data[name] = (dims, getattr(self, name))
        if self.hist is not None:
            data["hist"] = (dims + ("bin",), self.hist)
        attrs = {"trajectories": self.trajectories, "failed": self.failed,
                 "variance": "unbiased (ddof=1)"}
        return xr.Dataset(data, coords=coords, attrs=attrs)
