"""Django's own HTTP servers in this process answer without Nagle's delay.

The test suite's live server and `manage.py eval_conversations`' local servers are Django's (wsgiref's)
servers, and wsgiref sends a response in several small writes (the status and headers, then the body).
socketserver leaves Nagle's algorithm on, so on a kept-alive connection each later write waits for the
client's ACK of the first, which Linux holds back up to 40 ms (delayed ACK): every request answered about
40 ms after its view had finished (measured on the conversation corpus: 44 ms per merchant call whose view
took 13 ms). TCP_NODELAY sends each write at once. gunicorn, the production server, sets it already.
"""

from __future__ import annotations


def local_servers_answer_at_once() -> None:
    """Set TCP_NODELAY on every connection Django's WSGI servers of this process accept from now on
    (`runserver`, `LiveServerThread` and pytest-django's `live_server`, whose handlers derive from one class)."""
    from django.core.servers.basehttp import WSGIRequestHandler

    WSGIRequestHandler.disable_nagle_algorithm = True
