# One image for every PRISM process: web (gunicorn), worker and beat (Celery),
# and the one-shot migrate job. docker-compose.yml builds it once and runs it
# with different commands. Without SECRET_KEY (and DEBUG off) every command
# stops at once with "SECRET_KEY must be set".
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1

WORKDIR /app

# Dependencies first, from pyproject.toml alone, so that a code change does not
# reinstall them (the build cache keeps this layer until pyproject.toml changes).
COPY pyproject.toml README.md ./
RUN python -m pip install --upgrade pip \
    && python -m pip install .

COPY . .
# The project itself, editable so that templates/, static/ and manage.py are
# read from /app (settings find them beside the prism package).
RUN python -m pip install --no-deps -e .

# Static files are collected into the image and served by whitenoise. Settings
# refuse to load without a SECRET_KEY when DEBUG is off; this throwaway key
# exists only for this build step and is not kept in the image's environment.
RUN SECRET_KEY=collectstatic-only-not-a-secret python manage.py collectstatic --noinput

RUN useradd --system --create-home --uid 10001 --user-group prism \
    && mkdir -p /app/media \
    && chown -R prism:prism /app/media
USER prism

ENV MEDIA_ROOT=/app/media \
    STATIC_ROOT=/app/staticfiles
EXPOSE 8000
CMD ["gunicorn", "prism.wsgi:application", "--config", "/app/docker/gunicorn.conf.py"]
