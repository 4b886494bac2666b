"""The one exception type of ensolve: a failed call, with its gRPC status."""

import grpc


class EnsolveError(Exception):
    """A call to ensolved failed.

    Attributes:
      code: the `grpc.StatusCode` (INVALID_ARGUMENT for a bad model or request, NOT_FOUND
        for an unknown model_id, RESOURCE_EXHAUSTED past the server's limits, UNAVAILABLE
        when the server cannot be reached or is draining, DEADLINE_EXCEEDED, CANCELLED,
        INTERNAL).
      message: the server's message, e.g. "model_source: line 3, column 7: ...".
    """

    def __init__(self, code: grpc.StatusCode, message: str):
        super().__init__(f"{code.name}: {message}")
        self.code = code
        self.message = message

    @classmethod
    def from_rpc(cls, error: grpc.RpcError) -> "EnsolveError":
        return cls(error.code(), error.details() or "")
