# mipguide API image: the REST API and its local solver workers (CPU torch).
#   docker build -t mipguide .      docker compose up --build   (see docs/deploy.md)
# In step with the Makefile: torch==2.13.0 first (here from the PyTorch CPU index, since this
# image has no /opt/wheels), then the project itself, with the PostgreSQL driver (extra
# "postgres") and Ray (extra "ray": the same image runs the API replicas and the Ray head and
# workers of docker-compose.yml). tests/test_deploy.py runs this file's CMD and HEALTHCHECK
# locally.
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1

WORKDIR /app

RUN pip install --index-url https://download.pytorch.org/whl/cpu "torch==2.13.0"

COPY pyproject.toml README.md ./
COPY service ./service
COPY models ./models
COPY instances ./instances
RUN pip install ".[server,postgres,ray]"

# run as an unprivileged user; /data is the volume for inputs, results and logs (a new named
# volume takes this directory's owner).
RUN useradd --system --uid 10001 --create-home --home-dir /home/mipguide mipguide \
    && mkdir -p /data \
    && chown mipguide /data
USER mipguide

ENV MIPGUIDE_DATA_DIR=/data
VOLUME ["/data"]
EXPOSE 8000

HEALTHCHECK --interval=30s --timeout=5s --start-period=60s --retries=3 \
    CMD ["python", "-c", "import urllib.request; urllib.request.urlopen('http://127.0.0.1:8000/healthz', timeout=4)"]

CMD ["mipguide", "serve", "--host", "0.0.0.0", "--port", "8000"]
