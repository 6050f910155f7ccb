"""The care coordinators' web console (Sanic, server-rendered Jinja2 pages, live queue).

Start it with ``assistant console``; :func:`assistant.console.server.build_app` and
:class:`assistant.console.server.BackgroundServer` let another process host it.
"""
