# The two commands: `make run` and `make test`. Everything else is a helper for them.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed-$(shell sha1sum requirements.txt | cut -c1-12)
HOST ?= 127.0.0.1
PORT ?= 8000
# Links and logo URLs in messages point where the app runs (make run PORT=8203 -> :8203);
# set SITE_URL yourself for a public address.
SITE_URL ?= http://$(HOST):$(PORT)
export SITE_URL
export PYTHONDONTWRITEBYTECODE := 1

.PHONY: run run-multi test test-clock install migrate seed check clean bench messages

$(STAMP): requirements.txt
	@test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -r requirements.txt
	@rm -f $(VENV)/.installed-*
	@touch $(STAMP)

install: $(STAMP)

var:
	@mkdir -p var/celery/queue var/celery/processed var/celery/results var/mail var/media var/cache

migrate: install var
	$(PY) manage.py migrate --noinput

seed: migrate
	$(PY) manage.py seed_demo

run: seed
	DEMO_LIVE=1 $(PY) manage.py demo_live
	$(PY) manage.py collectstatic --noinput --verbosity 0
	@echo ""
	@echo "  Notify Market is starting on http://$(HOST):$(PORT)/  (admin: http://$(HOST):$(PORT)/admin/)"
	@echo "  Links in messages use SITE_URL=$(SITE_URL). The demo keeps a parcel moving (DEMO_LIVE=1)."
	@echo "  Database: $${DATABASE_URL:-SQLite var/db.sqlite3}   Broker: $${REDIS_URL:-filesystem transport under var/celery}"
	@echo "  Emails land in var/mail/ (EMAIL_BACKEND to change). Ctrl-C stops web, worker and beat."
	@echo ""
	DEMO_LIVE=$${DEMO_LIVE:-1} HOST=$(HOST) PORT=$(PORT) $(VENV)/bin/honcho -f Procfile.dev start

check: install var
	DJANGO_SETTINGS_MODULE=notify_site.settings.test $(PY) manage.py makemigrations --check --dry-run
	DJANGO_SETTINGS_MODULE=notify_site.settings.production SECRET_KEY=$$(head -c 48 /dev/urandom | base64) \
	  ALLOWED_HOSTS=shop.example.com ANYMAIL_WEBHOOK_SECRET=hook:$$(head -c 24 /dev/urandom | base64) \
	  $(PY) manage.py check --deploy --fail-level WARNING

test: check
	$(VENV)/bin/pytest $(PYTEST_ARGS)

# The suite under another clock, e.g. make test-clock CLOCK="2026-12-02 02:30:00" (Debian's faketime).
test-clock: install var
	faketime "$(CLOCK)" $(VENV)/bin/pytest $(PYTEST_ARGS)

bench: install
	$(PY) bench/pipeline.py

clean:
	rm -rf var staticfiles .pytest_cache

# The multi-host shape on one machine: 2 web processes on one port, 2 workers, 1 beat, production
# settings (README: "Several web processes, two workers, one beat"). Needs DATABASE_URL (PostgreSQL)
# and REDIS_URL; WEB_PORT (default 8000).
run-multi: install var
	DJANGO_SETTINGS_MODULE=notify_site.settings.production $(PY) manage.py migrate --noinput
	DJANGO_SETTINGS_MODULE=notify_site.settings.production $(PY) manage.py collectstatic --noinput --verbosity 0
	DJANGO_SETTINGS_MODULE=notify_site.settings.production $(VENV)/bin/honcho -f Procfile.multi start

# Re-extract the customer pages' strings into locale/{de,fr,es} and compile them (needs gettext's
# msgfmt). Seller, admin and API pages stay English, so they are not extracted.
I18N_IGNORE := -i ".venv/*" -i "seller/*" -i "templates/seller/*" -i "templates/admin/*" -i "api/*" \
	-i "webhooks/*" -i "ops/*" -i "bench/*" -i "tests/*" -i "static/*" -i "staticfiles/*" -i "var/*" -i "bin/*" \
	-i "templates/notifications/*/seller/*" -i "templates/notifications/*/supplier/*" \
	-i "templates/notifications/layouts/seller_email*" -i "*/admin.py" -i "*/management/*" -i "*/migrations/*"
messages: install
	$(PY) manage.py makemessages -l de -l fr -l es --no-location --no-obsolete $(I18N_IGNORE)
	$(PY) manage.py compilemessages -l de -l fr -l es
