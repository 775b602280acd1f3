# The app image: gunicorn serving Django, static files by whitenoise. Used by docker-compose.yml.
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    DJANGO_SETTINGS_MODULE=config.settings.production

WORKDIR /app
COPY pyproject.toml README.md ./
COPY config ./config
COPY quizapp ./quizapp
COPY templates ./templates
COPY static ./static
COPY manage.py ./
# Editable, so that settings find templates/, static/ and the bank data next to the code in /app.
RUN pip install --no-cache-dir -e . \
    && SECRET_KEY=build-only-collectstatic-key-never-used-at-run-time-0123456789 python manage.py collectstatic --noinput \
    && useradd --create-home --uid 1000 app
USER app
EXPOSE 8000
CMD ["gunicorn", "-c", "config/gunicorn.conf.py", "config.wsgi:application"]
