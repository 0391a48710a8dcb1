"""Server-rendered web pages of the hub (docs/web.md): sign-in, the review queue, the audit
log, researchers' project pages and the public transparency pages.

Pages call the same services as the JSON API (no rule is written twice, no query sits in a
route handler). :func:`hub.web.app.mount_web` adds the page routers and the static files to
the app built by :func:`hub.api.app.create_app`.
"""
