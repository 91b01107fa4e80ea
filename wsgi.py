"""The WSGI entry point: the one module-level app (gunicorn wsgi:app, flask --app wsgi)."""
from grader import create_app

app = create_app()
