"""The Kubernetes REST API over HTTP, served from a :mod:`kybernetes.store` backend.

:class:`APIServer` is the server (``await server.run(host, port)`` serves until cancelled);
:func:`write_kubeconfig` writes the admin kubeconfig clients use to reach it.
"""

from kybernetes.apiserver._errors import APIError
from kybernetes.apiserver._kubeconfig import write_kubeconfig
from kybernetes.apiserver._server import APIServer

__all__ = ["APIError", "APIServer", "write_kubeconfig"]
