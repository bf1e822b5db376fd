"""The HTTP application: :func:`server.api.app.create_app` and one router per resource
(:data:`server.api.routes.ROUTER_MODULES`); shared dependencies in :mod:`server.api.deps`."""
