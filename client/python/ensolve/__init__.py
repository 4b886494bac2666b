"""ensolve: solve ensembles of ODEs on an ensolved server from Python, with NumPy arrays.

    import ensolve, numpy as np
    client = ensolve.Client("localhost:50051")
    sol = client.solve(ensolve.LORENZ, p=np.random.rand(10000, 3) * (10, 28, 8 / 3),
                       tspan=(0, 100), saveat=1.0)
    sol.u.shape  # (10000, 101, 3): (trajectories, save points, states)

Errors of the server (bad model, bad request, limits, deadline, ...) raise
`ensolve.EnsolveError`, which carries the gRPC status `code` and the server's `message`.
"""

# The generated gRPC stubs (ensolve.v1) live in the build tree, or beside this file once
# installed; let `ensolve` span both.
from pkgutil import extend_path

__path__ = extend_path(__path__, __name__)

from ensolve.errors import EnsolveError  # noqa: E402
from ensolve.samplers import Sampler, grid, normal, uniform  # noqa: E402
from ensolve.solution import Chunk, Solution, RETCODES  # noqa: E402
from ensolve.statistics import Statistics  # noqa: E402
from ensolve.client import Client, Model  # noqa: E402
from ensolve.raw_kernel import RawKernel  # noqa: E402

load = Solution.load

__version__ = "0.1.0"

# The seed example's model (the equations of server/models/lorenz.ode).
LORENZ = """# Lorenz
state x = 1, y = 0, z = 0
param sigma = 10, rho = 28, beta = 8/3
x' = sigma*(y - x)
y' = x*(rho - z) - y
z' = x*y - beta*z
output energy = 0.5*(x^2 + y^2 + z^2)
"""

__all__ = ["Client", "Model", "Solution", "Statistics", "Chunk", "EnsolveError", "Sampler", "uniform",
           "normal", "grid", "RETCODES", "LORENZ", "load"]
