"""Raw CUDA kernels: a trusted tenant's right-hand side as CUDA C++ (docs/api.md, "Raw CUDA
kernels"), passed to Client.solve() in place of model text.

    rhs = '''
    __device__ void ModelRhs(R t, const R* __restrict__ u, const R* __restrict__ p,
                             R* __restrict__ du) {
      du[0] = -p[0] * u[0];
    }'''
    sol = client.solve(ensolve.RawKernel(rhs, ["x"], ["k"], [1.0], [0.5]), tspan=(0, 1))

The server takes them only from tenants with the capability `raw`, on GPU devices.
"""

from dataclasses import dataclass, field
from typing import List


@dataclass
class RawKernel:
    """The source defines ModelRhs over u (the states, in the order of state_names) and p
    (the parameters, in the order of param_names). Defaults: one per name, or none (0)."""

    cuda_source: str
    state_names: List[str]
    param_names: List[str] = field(default_factory=list)
    state_defaults: List[float] = field(default_factory=list)
    param_defaults: List[float] = field(default_factory=list)

    def fill(self, msg) -> None:
        """Sets the fields of a v1.RawKernel message."""
        msg.cuda_source = self.cuda_source
        msg.states.extend(self.state_names)
        msg.params.extend(self.param_names)
        msg.state_defaults.extend(float(v) for v in self.state_defaults)
        msg.param_defaults.extend(float(v) for v in self.param_defaults)

    def with_zero_defaults(self) -> "RawKernel":
        """This kernel with its defaults spelled out (0 where none were given): what inputs
        given by name fill in."""
        return RawKernel(self.cuda_source, self.state_names, self.param_names,
                         list(self.state_defaults) or [0.0] * len(self.state_names),
                         list(self.param_defaults) or [0.0] * len(self.param_names))
