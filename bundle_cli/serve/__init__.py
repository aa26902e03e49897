"""`bundle serve`: a loaded bundle behind a local HTTP server that Truss clients talk to unchanged.

The server is one more caller of the runner seam (bundle_cli.runtime.runner): it turns an HTTP
request into an input and files, hands them to the runner and turns what comes back (an output,
a stream of chunks, or an error of the input or the model) into an HTTP answer. The hook
contract and the dispatch stay the runtime's.

    options.py   what `bundle serve` is asked to do (host, port, limits, logging)
    deps.py      the serve extra: one message naming the install when it is missing
    bodies.py    request bodies: JSON, msgpack (Truss's binary), multipart files, size limit
    replies.py   answers: JSON, msgpack, NDJSON and SSE streams, errors as data
    served.py    the model being served: readiness, back-pressure, calls into the runner
    observe.py   access log (batched off the request path), request ids, Prometheus metrics
    routes.py    Truss's routes as a Starlette application
    server.py    uvicorn on a bound socket: load in the background, drain on a signal

uvicorn, starlette and the rest are imported only here, so that no other command pays for them.
"""

from __future__ import annotations

from bundle_cli.serve.options import ServeOptions

__all__ = ["ServeOptions", "serve"]


def serve(options: ServeOptions) -> None:
    """Serve the bundle `options.path` until a signal stops the server (see server.run)."""
    from bundle_cli.serve import deps

    deps.require()
    from bundle_cli.serve.server import run

    run(options)
