"""ensolve.RawKernel through a real ensolved without a GPU: the request carries the kernel
(the server answers about it, not about missing model text), inputs by name use its names,
and the refusals surface as EnsolveError with the server's code and message."""

import grpc
import numpy as np
import pytest

import ensolve
from conftest import Server

DECAY = """__device__ void ModelRhs(R t, const R* __restrict__ u, const R* __restrict__ p,
                         R* __restrict__ du) {
  du[0] = -p[0] * u[0];
}"""


def kernel():
    return ensolve.RawKernel(DECAY, ["x"], ["k"], [1.0])


def test_refused_without_the_flag(client):
    with pytest.raises(ensolve.EnsolveError) as e:
        client.solve(kernel(), tspan=(0, 1))
    assert e.value.code == grpc.StatusCode.PERMISSION_DENIED
    assert e.value.message.startswith(
        "raw_kernel: this server takes raw CUDA kernels only from tenants with the capability "
        "'raw'")


def test_allowed_but_no_gpu_names_the_devices():
    s = Server("--allow_raw_kernels")
    try:
        with ensolve.Client(s.target) as c:
            with pytest.raises(ensolve.EnsolveError) as e:
                c.solve(kernel(), p={"k": np.array([0.5, 2.0])}, tspan=(0, 1))
            assert e.value.code == grpc.StatusCode.FAILED_PRECONDITION
            assert "raw CUDA kernels need every device of the server to be a GPU; this server " \
                   "has cpu" in e.value.message
            # Inputs by name use the kernel's names, without asking the server.
            with pytest.raises(ValueError, match=r"p: rho not in the model's parameters \(k\)"):
                c.solve(kernel(), p={"rho": [1.0]}, tspan=(0, 1))
    finally:
        s.stop()


def test_the_request_carries_the_kernel(client):
    req = client.request(ensolve.RawKernel(DECAY, ["x", "y"], ["k"], [1, 2], [3]),
                         tspan=(0, 1))
    assert req.WhichOneof("model") == "raw_kernel"
    assert list(req.raw_kernel.states) == ["x", "y"]
    assert list(req.raw_kernel.state_defaults) == [1.0, 2.0]
    assert list(req.raw_kernel.param_defaults) == [3.0]
    assert req.raw_kernel.cuda_source == DECAY
