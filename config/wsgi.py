import os

from django.core.wsgi import get_wsgi_application

from config.local_servers import local_servers_answer_at_once

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.production")

application = get_wsgi_application()

# `manage.py runserver` (make run's web and sandbox) serves this application with Django's own server: without
# this, each answer on a kept-alive connection waited ~40 ms for a delayed ACK (config/local_servers.py).
# gunicorn, which production uses, sets TCP_NODELAY itself; the flag only touches Django's server class.
local_servers_answer_at_once()
