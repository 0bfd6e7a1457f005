# Load the Celery app whenever Django starts, so that `shared_task` binds to it and
# tasks published from web requests carry the trace headers configured there.
from config.celery import app as celery_app

__all__ = ("celery_app",)
