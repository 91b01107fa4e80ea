"""The entry points: the one module-level app (gunicorn wsgi:app, flask --app wsgi) and, when
GRADER_QUEUE_URL is set, its Celery app for the grading workers (celery -A wsgi:celery_app worker)."""
from grader import create_app

app = create_app()
celery_app = app.extensions.get("celery")
