"""The web console: the sandbox's world (``/_sandbox/ui``) and the flows' dashboard (``leadbridge flows ui``).

Server-rendered with Jinja2; the CSS and JavaScript are our own small files under ``static/``
and the API docs' assets come from a package dependency, so nothing is fetched from a CDN.
"""
