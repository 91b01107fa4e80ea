#!/bin/sh
# The container's roles: ROLE=web (gunicorn; the default) or ROLE=worker (sandbox zygote + Celery
# grading worker). The zygote starts as root with an empty environment, before any secret is read;
# everything else runs as the unprivileged user "grader".
set -e
as_grader() { exec setpriv --reuid=grader --regid=grader --init-groups "$@"; }
start_zygote() {
  env -i /usr/local/bin/python -I grader/sandbox/zygote.py --socket /app/instance/sandbox.sock \
    --group "$(id -g grader)" --mode "${SANDBOX_MODE:-strict}" &
}
case "${ROLE:-web}" in
  web)
    # with GRADER_QUEUE_URL set, code is graded by workers and the web role needs no zygote
    [ -n "$GRADER_QUEUE_URL" ] || start_zygote
    setpriv --reuid=grader --regid=grader --init-groups flask --app wsgi init-db
    GRADER_BIND=0.0.0.0:8000 as_grader gunicorn -c gunicorn.conf.py wsgi:app ;;
  worker)
    start_zygote
    as_grader celery -A wsgi:celery_app worker -Q grading --concurrency "${WORKER_CONCURRENCY:-2}" --loglevel INFO ;;
  *) echo "ROLE must be web or worker" >&2; exit 2 ;;
esac
