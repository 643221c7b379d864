# The IIIF mask server on the bundled samples; mount your images at /images and set IIIF_IMAGE_ROOT=/images.
FROM python:3.11-slim
ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1 IIIF_HOST=0.0.0.0 IIIF_PORT=8000
RUN apt-get update && apt-get install -y --no-install-recommends fonts-dejavu-core \
    && rm -rf /var/lib/apt/lists/* \
    && useradd --create-home --uid 10001 iiif
WORKDIR /app
COPY pyproject.toml README.md ./
COPY iiif_server ./iiif_server
COPY extensions ./extensions
RUN pip install --no-cache-dir . && chown iiif /app
USER iiif
RUN iiif-server samples --folder /app/samples && rm -rf /home/iiif/.cache
ENV IIIF_IMAGE_ROOT=/app/samples
EXPOSE 8000
HEALTHCHECK CMD python -c "import urllib.request; urllib.request.urlopen('http://127.0.0.1:8000/')"
CMD ["iiif-server", "serve"]
