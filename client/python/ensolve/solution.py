"""Results of a solve: the whole ensemble (Solution) or one streamed piece of it (Chunk)."""

from dataclasses import dataclass, field
from typing import Dict, List, Optional

import numpy as np

from ensolve import _tensor

# RetCode values (ensolve.v1.RetCode) by name; 0 is success.
RETCODES = {"success": 0, "max_steps": 1, "dt_below_min": 2, "unstable": 3, "terminated": 4,
            "singular": 5}
_RETCODE_NAMES = {v: k for k, v in RETCODES.items()}


def _optional(chunk, name: str, count: int) -> Optional[np.ndarray]:
    """A per-trajectory tensor of the chunk, or None when the server did not send it
    (older servers have no t_final or rhs_evals)."""
    if name not in chunk.DESCRIPTOR.fields_by_name or not chunk.HasField(name):
        return None
    a = _tensor.to_numpy(getattr(chunk, name))
    if a.shape[:1] != (count,):
        raise ValueError(f"chunk {name} has shape {list(a.shape)}, expected [{count}, ...]")
    return a


@dataclass
class Chunk:
    """Trajectories [first, first + count) of a streamed solve."""

    first: int
    count: int
    u: np.ndarray  # (count, save points, states)
    retcode: np.ndarray  # (count,) uint8, RETCODES values
    accepted_steps: np.ndarray  # (count,) int32
    rejected_steps: np.ndarray  # (count,) int32
    t_final: Optional[np.ndarray] = None  # (count,) float64: the time each one reached
    rhs_evals: Optional[np.ndarray] = None  # (count,) int32
    p: Optional[np.ndarray] = None  # (count, params) float64, with return_inputs
    u0: Optional[np.ndarray] = None  # (count, states) float64, with return_inputs
    t: Optional[np.ndarray] = None  # (count, save points): per-trajectory save times
    # (count, save points, states, params): d u / d p, with SolveRequest.sensitivities
    sensitivities: Optional[np.ndarray] = None
    events_fired: Optional[np.ndarray] = None  # (count,) int32, for models with events

    @classmethod
    def from_proto(cls, c, num_save: int, num_states: int, dtype: np.dtype,
                   num_sensitivities: int = 0) -> "Chunk":
        u = _tensor.to_numpy(c.states)
        if u.dtype != dtype or u.shape != (c.count, num_save, num_states):
            raise ValueError(f"chunk at {c.first}: states {u.dtype}{list(u.shape)}, expected "
                             f"{dtype}{[c.count, num_save, num_states]}")
        sens = None
        if num_sensitivities:
            want = (c.count, num_save, num_states, num_sensitivities)
            sens = _tensor.to_numpy(c.sensitivities) if c.HasField("sensitivities") else None
            if sens is None or sens.dtype != dtype or sens.shape != want:
                got = "none" if sens is None else f"{sens.dtype}{list(sens.shape)}"
                raise ValueError(f"chunk at {c.first}: sensitivities {got}, expected "
                                 f"{dtype}{list(want)}")
        per = {}
        for name in ("retcodes", "accepted_steps", "rejected_steps"):
            a = _optional(c, name, c.count)
            if a is None:
                raise ValueError(f"chunk at {c.first}: no {name}")
            per[name] = a
        return cls(first=c.first, count=c.count, u=u, retcode=per["retcodes"],
                   accepted_steps=per["accepted_steps"], rejected_steps=per["rejected_steps"],
                   t_final=_optional(c, "t_final", c.count),
                   rhs_evals=_optional(c, "rhs_evals", c.count),
                   p=_optional(c, "params", c.count), u0=_optional(c, "u0", c.count),
                   t=_optional(c, "save_times", c.count), sensitivities=sens,
                   events_fired=_optional(c, "events_fired", c.count))


@dataclass
class Solution:
    """A solved ensemble.

    u[i, j, k] is state k of trajectory i at save time t[j] (t[i, j] when each trajectory
    has save times of its own); a save point a trajectory never reached is NaN (on servers
    that say so) and retcode[i] says why it stopped.
    """

    t: np.ndarray  # (save points,) or (trajectories, save points) float64
    u: np.ndarray  # (trajectories, save points, states), float32 or float64 as asked
    retcode: np.ndarray  # (trajectories,) uint8, RETCODES values
    t_final: Optional[np.ndarray]  # (trajectories,) float64, None from older servers
    accepted_steps: np.ndarray  # (trajectories,) int32
    rejected_steps: np.ndarray  # (trajectories,) int32
    rhs_evals: Optional[np.ndarray]  # (trajectories,) int32, None from older servers
    state_names: List[str]
    # The inputs used: what was sent (rows as given), or what a sampler drew when the
    # server returned it; None where the model's defaults (or an undisclosed draw) applied.
    p: Optional[np.ndarray] = None
    u0: Optional[np.ndarray] = None
    param_names: Optional[List[str]] = None
    # With solve(..., sensitivities=[names]): sensitivities[i, j, k, l] is d u[i, j, k] /
    # d (parameter sensitivity_names[l]); None otherwise.
    sensitivities: Optional[np.ndarray] = None
    sensitivity_names: Optional[List[str]] = None
    job_id: str = ""
    model_id: str = ""
    summary: Dict = field(default_factory=dict)  # retcode_counts, wall_seconds, devices ...
    # With solve(reduce=..., keep_states=True): the server's ensolve.Statistics.
    stats: Optional[object] = None
    # (trajectories,) int32: the events each trajectory fired; None for a model without
    # events (or from older servers).
    events_fired: Optional[np.ndarray] = None

    def __len__(self) -> int:
        return self.u.shape[0]

    @property
    def ok(self) -> np.ndarray:
        """Boolean mask of the trajectories that reached t1."""
        return self.retcode == RETCODES["success"]

    @property
    def num_failed(self) -> int:
        return int(np.count_nonzero(self.retcode != RETCODES["success"]))

    def retcode_names(self) -> List[str]:
        return [_RETCODE_NAMES.get(int(c), f"code{int(c)}") for c in self.retcode]

    def __repr__(self) -> str:
        n, s, k = self.u.shape
        return (f"<ensolve.Solution {n} trajectories x {s} save points x {k} states "
                f"({self.u.dtype}), {n - self.num_failed} succeeded, {self.num_failed} failed>")

    def save(self, path) -> None:
        """Writes the solution as the ensolve CLI's .npz does (np.load(path)["u"], ...):
        u, t, retcode, accepted_steps, rejected_steps, t_final, rhs_evals and events_fired
        (when known), p and u0 (when known), state_names, param_names, and sensitivities
        with sensitivity_names (when asked for)."""
        arrays = {"u": self.u, "t": self.t, "retcode": self.retcode,
                  "accepted_steps": self.accepted_steps, "rejected_steps": self.rejected_steps,
                  "state_names": np.array(self.state_names, dtype=str),
                  "param_names": np.array(self.param_names or [], dtype=str)}
        if self.sensitivities is not None:
            arrays["sensitivities"] = self.sensitivities
            arrays["sensitivity_names"] = np.array(self.sensitivity_names or [], dtype=str)
        for name in ("t_final", "rhs_evals", "events_fired", "p", "u0"):
            if getattr(self, name) is not None:
                arrays[name] = getattr(self, name)
        np.savez(path, **arrays)

    @classmethod
    def load(cls, path) -> "Solution":
        """Reads a .npz written by save() or by `ensolve solve ... -o out.npz`."""
        with np.load(path) as z:
            def get(name):
                return z[name] if name in z.files else None
            names = get("param_names")
            sens_names = get("sensitivity_names")
            return cls(t=z["t"], u=z["u"], retcode=z["retcode"], t_final=get("t_final"),
                       accepted_steps=z["accepted_steps"], rejected_steps=z["rejected_steps"],
                       rhs_evals=get("rhs_evals"), state_names=[str(n) for n in z["state_names"]],
                       p=get("p"), u0=get("u0"), events_fired=get("events_fired"),
                       param_names=[str(n) for n in names] if names is not None and names.size
                       else None,
                       sensitivities=get("sensitivities"),
                       sensitivity_names=[str(n) for n in sens_names]
                       if sens_names is not None else None)

    def to_xarray(self):
        """An xarray.Dataset: u over (trajectory, time, state), the per-trajectory
        outcomes, the inputs used, and sensitivities over (trajectory, time, state,
        sensitivity) when asked for. Needs xarray (Debian: python3-xarray)."""
        try:
            import xarray as xr
        except ImportError as e:
            raise ImportError("to_xarray() needs xarray (apt-get install python3-xarray)") from e
        n = len(self)
        coords = {"trajectory": np.arange(n), "state": list(self.state_names)}
        if self.t.ndim == 1:
            coords["time"] = self.t
            data = {"u": (("trajectory", "time", "state"), self.u)}
        else:  # each trajectory's own save times: a 2-D coordinate over a save index
            coords["save"] = np.arange(self.t.shape[1])
            coords["time"] = (("trajectory", "save"), self.t)
            data = {"u": (("trajectory", "save", "state"), self.u)}
        data.update({
                "retcode": ("trajectory", self.retcode),
                "accepted_steps": ("trajectory", self.accepted_steps),
                "rejected_steps": ("trajectory", self.rejected_steps)})
        if self.t_final is not None:
            data["t_final"] = ("trajectory", self.t_final)
        if self.rhs_evals is not None:
            data["rhs_evals"] = ("trajectory", self.rhs_evals)
        if self.p is not None:
            p = np.broadcast_to(np.atleast_2d(self.p), (n, np.atleast_2d(self.p).shape[1]))
            data["p"] = (("trajectory", "param"), p)
            if self.param_names is not None and len(self.param_names) == p.shape[1]:
                coords["param"] = list(self.param_names)
        if self.sensitivities is not None:
            coords["sensitivity"] = list(self.sensitivity_names or [])
            data["sensitivities"] = (data["u"][0] + ("sensitivity",), self.sensitivities)
        if self.u0 is not None:
            u0 = np.broadcast_to(np.atleast_2d(self.u0), (n, np.atleast_2d(self.u0).shape[1]))
            data["u0"] = (("trajectory", "u0_state"), u0)
        attrs = {"job_id": self.job_id, "model_id": self.model_id}
        return xr.Dataset(data, coords=coords, attrs=attrs)
