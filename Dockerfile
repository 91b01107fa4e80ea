# The grading service: the sandbox zygote (root, for per-job uids and namespaces) and gunicorn
# serving wsgi:app as the non-root user "grader". SQLite in /app/instance unless
# GRADER_DATABASE_URL names another database.
#   docker run -p 8000:8000 --cap-add SYS_ADMIN --security-opt seccomp=unconfined \
#              -e GRADER_SECRET_KEY=... bptt-grader
# Without those two options the kernel refuses the sandbox's namespaces: either grant them, or
# run with -e SANDBOX_MODE=weak, which /api/v1/health then reports with the missing layers.
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1 PIP_DISABLE_PIP_VERSION_CHECK=1 \
    SANDBOX_MODE=strict WEB_WORKERS=2
WORKDIR /app
COPY requirements.txt .
RUN pip install --no-cache-dir -r requirements.txt
COPY grader grader
COPY exercises exercises
COPY wsgi.py .
RUN useradd --create-home --uid 10001 grader && mkdir -p instance && chown grader:grader instance

EXPOSE 8000
HEALTHCHECK --interval=30s --timeout=3s --start-period=10s \
  CMD python -c "import urllib.request,sys; sys.exit(urllib.request.urlopen('http://127.0.0.1:8000/api/v1/health').status != 200)"
# zygote first, with an empty environment and before any secret is read; then the app as "grader"
CMD ["sh", "-c", "env -i /usr/local/bin/python -I grader/sandbox/zygote.py --socket /app/instance/sandbox.sock --group $(id -g grader) --mode $SANDBOX_MODE & \
      exec setpriv --reuid=grader --regid=grader --init-groups sh -c 'flask --app wsgi init-db && exec gunicorn --bind 0.0.0.0:8000 --workers $WEB_WORKERS --access-logfile - wsgi:app'"]
