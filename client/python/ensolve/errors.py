"""The one exception type of ensolve: a failed call, with its gRPC status."""

import re

import grpc

_POSITION = re.compile(r"line (\d+), column (\d+): ")


class EnsolveError(Exception):
    """A call to ensolved failed.

    Attributes:
      code: the `grpc.StatusCode` (INVALID_ARGUMENT for a bad model or request, NOT_FOUND
        for an unknown model_id, RESOURCE_EXHAUSTED past the server's limits, UNAVAILABLE
        when the server cannot be reached or is draining, DEADLINE_EXCEEDED, CANCELLED,
        INTERNAL).
      message: the server's message, e.g. "model_source: line 3, column 7: ...".
      context: for a model error, the model's line with a caret under the column (and a
        hint for '**' or implicit multiplication); "" otherwise. Part of str(error).
    """

    def __init__(self, code: grpc.StatusCode, message: str, context: str = ""):
        super().__init__(f"{code.name}: {message}" + (f"\n{context}" if context else ""))
        self.code = code
        self.message = message
        self.context = context

    def with_source(self, source: str) -> "EnsolveError":
        """This error with the line of `source` it points at quoted (model errors only)."""
        m = _POSITION.search(self.message)
        lines = source.split("\n")
        if self.code != grpc.StatusCode.INVALID_ARGUMENT or m is None or \
                not 1 <= int(m.group(1)) <= len(lines):
            return self
        text, column = lines[int(m.group(1)) - 1].rstrip("\r"), int(m.group(2))
        context = f"    {text}\n    {' ' * (column - 1)}^"
        if "**" in text:
            context += "\nhint: powers are written x^2 (not x**2)"
        elif re.search(r"[\w)]\s*$", text[:column - 1]) and "expected end of line" in self.message:
            context += ("\nhint: multiplication is written out: "
                        f"{text[:column - 1].rstrip()}*{text[column - 1:]}")
        return EnsolveError(self.code, self.message, context)


    @classmethod
    def from_rpc(cls, error: grpc.RpcError) -> "EnsolveError":
        return cls(error.code(), error.details() or "")
