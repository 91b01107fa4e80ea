# The grading service: gunicorn serving wsgi:app as a non-root user, SQLite in /app/instance by default.
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1 PIP_DISABLE_PIP_VERSION_CHECK=1
WORKDIR /app
COPY requirements.txt .
RUN pip install --no-cache-dir -r requirements.txt
COPY grader grader
COPY exercises exercises
COPY wsgi.py .
RUN useradd --create-home --uid 10001 grader && mkdir -p instance && chown grader:grader instance
USER grader

EXPOSE 8000
HEALTHCHECK --interval=30s --timeout=3s --start-period=10s \
  CMD python -c "import urllib.request,sys; sys.exit(urllib.request.urlopen('http://127.0.0.1:8000/api/v1/health').status != 200)"
CMD ["sh", "-c", "flask --app wsgi init-db && exec gunicorn --bind 0.0.0.0:8000 --workers ${WEB_WORKERS:-2} --access-logfile - wsgi:app"]
