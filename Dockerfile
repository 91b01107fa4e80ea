# One image, two roles: ROLE=web (gunicorn serving wsgi:app; the default) and ROLE=worker (Celery
# grading worker with its sandbox zygote). See entrypoint.sh and compose.yaml.
#   docker run -p 8000:8000 --cap-add SYS_ADMIN --security-opt seccomp=unconfined -e GRADER_SECRET_KEY=... bptt-grader
# The sandbox needs those two options for its namespaces (or SANDBOX_MODE=weak, which
# /api/v1/health then reports with the missing layers).
# With PyTorch for code submissions (CPU build, ~870 MB more): docker build --build-arg TORCH=1 .
FROM python:3.11-slim
ARG TORCH=0
ARG TORCH_INDEX_URL=https://download.pytorch.org/whl/cpu

ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1 PIP_DISABLE_PIP_VERSION_CHECK=1 ROLE=web SANDBOX_MODE=strict
WORKDIR /app
COPY requirements.txt requirements-torch.txt ./
RUN pip install --no-cache-dir -r requirements.txt \
 && if [ "$TORCH" = 1 ]; then pip install --no-cache-dir --extra-index-url "$TORCH_INDEX_URL" -r requirements-torch.txt; fi
COPY grader grader
COPY exercises exercises
COPY wsgi.py gunicorn.conf.py entrypoint.sh ./
RUN useradd --create-home --uid 10001 grader && mkdir -p instance && chown grader:grader instance

EXPOSE 8000
HEALTHCHECK --interval=30s --timeout=3s --start-period=15s \
  CMD [ "$ROLE" != web ] || python -c "import urllib.request,sys; sys.exit(urllib.request.urlopen('http://127.0.0.1:8000/api/v1/health').status != 200)"
CMD ["./entrypoint.sh"]
