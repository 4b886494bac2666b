"""ensolve.v1.Tensor <-> NumPy: raw little-endian bytes, row-major."""

import numpy as np

from ensolve.v1 import tensor_pb2 as tpb

_DTYPES = {
    tpb.DTYPE_FLOAT32: np.dtype("<f4"),
    tpb.DTYPE_FLOAT64: np.dtype("<f8"),
    tpb.DTYPE_UINT8: np.dtype("u1"),
    tpb.DTYPE_INT32: np.dtype("<i4"),
    tpb.DTYPE_INT64: np.dtype("<i8"),
}


def to_numpy(t: tpb.Tensor) -> np.ndarray:
    """A read-only view of the tensor's bytes (ValueError if they do not fit the shape)."""
    dtype = _DTYPES.get(t.dtype)
    if dtype is None:
        raise ValueError(f"tensor of unknown dtype {t.dtype}")
    shape = tuple(t.shape)
    n = int(np.prod(shape, dtype=np.int64)) if shape else 1
    if len(t.data) != n * dtype.itemsize:
        raise ValueError(f"tensor of shape {list(shape)} holds {len(t.data)} bytes, "
                         f"expected {n * dtype.itemsize}")
    return np.frombuffer(t.data, dtype=dtype).reshape(shape)


def from_numpy(a, name: str) -> tpb.Tensor:
    """A float64 tensor of a 1-D or 2-D array of numbers (float32 stays float32)."""
    a = np.asarray(a)
    if a.dtype.kind not in "fiub":
        raise TypeError(f"{name}: expected numbers, got an array of {a.dtype}")
    if a.ndim not in (1, 2):
        raise ValueError(f"{name}: expected a 1-D or 2-D array, got shape {a.shape}")
    if a.dtype == np.float32:
        a, dtype = np.ascontiguousarray(a, dtype="<f4"), tpb.DTYPE_FLOAT32
    else:
        a, dtype = np.ascontiguousarray(a, dtype="<f8"), tpb.DTYPE_FLOAT64
    return tpb.Tensor(dtype=dtype, shape=list(a.shape), data=a.tobytes())
