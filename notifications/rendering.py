"""Turn (event, audience, channel, language, context) into subject / text / HTML.

Where templates come from, in order: the active database template (NotificationTemplate), then its
earlier versions (the last good one), then the shipped default under templates/notifications/.
A template that fails at send time (syntax, unknown variable, blank result) is skipped for the
next candidate and reported, so a message is never sent blank or half-rendered.

Compiled templates are cached per process: files by Django's cached loader, database templates
by (id, version); the table of database templates is re-read at most every TEMPLATE_TTL seconds.
"""
import re
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

import css_inline
from django.conf import settings
from django.template import Engine, TemplateDoesNotExist, TemplateSyntaxError
from django.utils import translation

from .events import Channel
from .template_safety import BudgetContext, ReadOnlyDict, ReadOnlyList, check_output, read_only

TEMPLATE_DIR = Path(settings.BASE_DIR) / "templates"
INVALID = "@@unknown variable: %s@@"
INVALID_RE = re.compile(r"@@unknown variable: ([^@]*)@@")
TEMPLATE_TTL = 10.0
SMS_MAX_CHARS = 1600  # Twilio rejects longer bodies (SMS and WhatsApp)
PUSH_MAX_CHARS = 500  # what the push channel sends (notifications.channels.push.PUSH_BODY_MAX)
# Context values a shopper types at checkout or in a cancel / return request.
CUSTOMER_TEXT_RE = re.compile(r"\b(?:recipient|customer)\.(?:first_name|name|email)\b|\bship_to\b|"
                              r"\bshipping_address\b|\bchange\.(?:reason|note)\b")

# Which parts a channel uses, and which of them must not render blank.
PARTS = {
    Channel.EMAIL: ("subject", "text", "html"),
    Channel.SMS: ("text",),
    Channel.INAPP: ("subject", "text"),
    Channel.WHATSAPP: ("text",),
    Channel.PUSH: ("subject", "text"),
}
REQUIRED = {
    Channel.EMAIL: ("subject", "text", "html"),
    Channel.SMS: ("text",),
    Channel.INAPP: ("subject",),
    Channel.WHATSAPP: ("text",),
    Channel.PUSH: ("subject",),
}
FIELD_FOR_PART = {"subject": "subject", "text": "text_body", "html": "html_body"}
PART_LABEL = {"subject": "Subject / title", "text": "Text body", "html": "HTML body"}


def _engine(autoescape: bool) -> Engine:
    return Engine(dirs=[str(TEMPLATE_DIR)], app_dirs=True, autoescape=autoescape, string_if_invalid=INVALID,
                  builtins=["django.contrib.humanize.templatetags.humanize", "notifications.template_safety"],
                  libraries={"i18n": "django.templatetags.i18n", "l10n": "django.templatetags.l10n",
                             "tz": "django.templatetags.tz"},
                  debug=False)


TEXT_ENGINE = _engine(autoescape=False)
HTML_ENGINE = _engine(autoescape=True)
INLINER = css_inline.CSSInliner(load_remote_stylesheets=False, keep_style_tags=False)


class RenderError(Exception):
    """A template could not produce a usable message (the message says which part and why)."""


@dataclass
class Rendered:
    subject: str = ""
    text: str = ""
    html: str = ""
    source: str = ""
    fallback: bool = False
    # Templates that failed on the way, for flagging: [(template id or None, error)]
    failures: list = field(default_factory=list)


# --- sources ---------------------------------------------------------------------------------

def default_path(event: str, audience: str, channel: str, part: str, language: str = "") -> str:
    """The shipped file: English next to the event, a translation in a folder named for its language."""
    ext = "html" if part == "html" else "txt"
    name = f"{channel}_subject.txt" if part == "subject" else f"{channel}_body.{ext}"
    folder = f"{language}/" if language and language != settings.LANGUAGE_CODE else ""
    return f"notifications/{event}/{audience}/{folder}{name}"


def has_shipped_translation(event: str, audience: str, channel: str, language: str) -> bool:
    if not language or language == settings.LANGUAGE_CODE:
        return True
    return any((TEMPLATE_DIR / default_path(event, audience, channel, part, language)).exists()
               for part in PARTS[Channel(channel)])


def default_sources(event: str, audience: str, channel: str, language: str = "") -> dict[str, str]:
    """The shipped default's raw source per part ('' where the file is missing), in ``language``
    where a translation ships (else English)."""
    if not has_shipped_translation(event, audience, channel, language):
        language = ""
    out = {}
    for part in PARTS[Channel(channel)]:
        path = TEMPLATE_DIR / default_path(event, audience, channel, part, language)
        out[part] = path.read_text() if path.exists() else ""
    return out


class _DbTemplates:
    """Process-local snapshot of the active database templates, refreshed every TEMPLATE_TTL s."""

    def __init__(self):
        self._lock = threading.Lock()
        self._loaded_at = 0.0
        self._rows: dict = {}
        self._compiled: dict = {}

    def invalidate(self):
        with self._lock:
            self._loaded_at = 0.0
            self._compiled = {}

    def get(self, event, audience, channel, language):
        now = time.monotonic()
        if now - self._loaded_at > TEMPLATE_TTL:
            from .models import NotificationTemplate

            rows = {}
            for t in NotificationTemplate.objects.filter(active=True).only(
                    "id", "event", "audience", "channel", "language", "version", "subject", "text_body",
                    "html_body"):
                rows[(t.event, t.audience, t.channel, t.language)] = t
            with self._lock:
                self._rows, self._loaded_at = rows, now
        return self._rows.get((event, audience, channel, language))

    def compiled(self, key, part, source, engine):
        cache_key = (key, part, hash(source))
        hit = self._compiled.get(cache_key)
        if hit is None:
            hit = engine.from_string(source)
            if len(self._compiled) > 2000:
                self._compiled.clear()
            self._compiled[cache_key] = hit
        return hit


DB_TEMPLATES = _DbTemplates()


def _engine_for(part: str) -> Engine:
    return HTML_ENGINE if part == "html" else TEXT_ENGINE


def _clean(part: str, value: str) -> str:
    if part == "subject":
        return " ".join(value.split())[:300]
    if part == "html":
        return value.strip()
    lines = [line.rstrip() for line in value.strip().splitlines()]
    return re.sub(r"\n{3,}", "\n\n", "\n".join(lines))


def _render_parts(compiled: dict, channel: str, context: dict) -> dict[str, str]:
    out = {}
    # Read-only data and one time budget for all parts (notifications.template_safety).
    ctx = BudgetContext(read_only(context), autoescape=True)
    # A scratch layer above the read-only data: {% get_current_language as … %} writes here.
    ctx.push()
    for part, template in compiled.items():
        ctx.autoescape = part == "html"
        value = _clean(part, check_output(PART_LABEL[part], template.render(ctx)))
        unknown = INVALID_RE.findall(value)
        if unknown:
            raise RenderError(f"{PART_LABEL[part]}: unknown variable {', '.join(sorted(set(unknown)))}")
        out[part] = value
    for part in REQUIRED[Channel(channel)]:
        if not out.get(part):
            raise RenderError(f"{PART_LABEL[part]} rendered blank")
    return out


def _finish(parts: dict) -> dict:
    if parts.get("html"):
        parts["html"] = INLINER.inline(parts["html"])
    return parts


def _from_database(db, channel: str, context: dict, failures: list) -> "Rendered | None":
    """The active database template, else its last good earlier version (None if none renders)."""
    try:
        compiled = {part: DB_TEMPLATES.compiled((db.pk, db.version), part,
                                                getattr(db, FIELD_FOR_PART[part]), _engine_for(part))
                    for part in PARTS[Channel(channel)] if getattr(db, FIELD_FOR_PART[part])}
        parts = _render_parts(compiled, channel, context)
        return Rendered(**_finish(parts), source=f"database v{db.version}", failures=failures)
    except Exception as exc:  # any template error: try the next candidate
        failures.append((db.pk, f"v{db.version}: {exc}"))
    from .models import NotificationTemplateVersion

    for version in NotificationTemplateVersion.objects.filter(
            template_id=db.pk, version__lt=db.version).order_by("-version")[:5]:
        try:
            compiled = {part: _engine_for(part).from_string(getattr(version, FIELD_FOR_PART[part]))
                        for part in PARTS[Channel(channel)] if getattr(version, FIELD_FOR_PART[part])}
            parts = _render_parts(compiled, channel, context)
            return Rendered(**_finish(parts), source=f"database v{version.version} (fallback)",
                            fallback=True, failures=failures)
        except Exception as exc:
            failures.append((None, f"v{version.version}: {exc}"))
    return None


def _from_files(event, audience, channel, language, context) -> dict:
    compiled = {}
    for part in PARTS[Channel(channel)]:
        try:
            compiled[part] = _engine_for(part).get_template(default_path(event, audience, channel, part, language))
        except TemplateDoesNotExist:
            continue
    return _render_parts(compiled, channel, context)


def render(*, event: str, audience: str, channel: str, language: str, context: dict) -> Rendered:
    """Render a message with the best template that works; raise RenderError only if none does.

    In order: the database template in the recipient's language, the shipped translation in that
    language, the database template in English, the shipped English default. The recipient's
    language stays active throughout (dates, money and {% translate %} in shared layouts).
    """
    failures = []
    english = settings.LANGUAGE_CODE
    language = language or english
    with translation.override(language):
        db = DB_TEMPLATES.get(event, audience, channel, language)
        if db is not None:
            rendered = _from_database(db, channel, context, failures)
            if rendered is not None:
                return rendered
        if language != english and has_shipped_translation(event, audience, channel, language):
            try:
                parts = _from_files(event, audience, channel, language, context)
                return Rendered(**_finish(parts), source=f"file default ({language})"
                                + (" (fallback)" if failures else ""), fallback=bool(failures), failures=failures)
            except Exception as exc:
                failures.append((None, f"file default ({language}): {exc}"))
        if language != english:
            db = DB_TEMPLATES.get(event, audience, channel, english)
            if db is not None:
                rendered = _from_database(db, channel, context, failures)
                if rendered is not None:
                    rendered.source += f" ({english}, no {language} template)"
                    return rendered
        try:
            parts = _from_files(event, audience, channel, english, context)
        except Exception as exc:
            failures.append((None, f"file default: {exc}"))
            raise RenderError("; ".join(msg for _, msg in failures)) from exc
        return Rendered(**_finish(parts), source="file default" + (" (fallback)" if failures else ""),
                        fallback=bool(failures), failures=failures)


# --- validation and preview (admin) ---------------------------------------------------------------

class _StrictContext(BudgetContext):
    """A Context that remembers every top-level name a template looked up and did not find."""

    def __init__(self, *args, missing=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.missing = missing if missing is not None else set()

    def __getitem__(self, key):
        try:
            return super().__getitem__(key)
        except KeyError:
            self.missing.add(key)
            raise

    def new(self, values=None):
        new_context = super().new(values)
        new_context.missing = self.missing
        return new_context


class _StrictDict(ReadOnlyDict):
    """A context dict that records lookups of keys it does not have (``{% if order.nmber %}`` too)."""

    def __init__(self, data, path, missing):
        super().__init__(data)
        self._path, self._missing = path, missing

    def __missing__(self, key):
        self._missing.add(f"{self._path}.{key}")
        raise KeyError(key)


def _strict(value, path, missing):
    if isinstance(value, dict):
        return _StrictDict({k: _strict(v, f"{path}.{k}", missing) for k, v in value.items()}, path, missing)
    if isinstance(value, (list, tuple)):
        return ReadOnlyList(_strict(v, f"{path}[]", missing) for v in value)
    return value


def validate(*, event: str, audience: str, channel: str, sources: dict[str, str],
             language: str = "") -> dict[str, list[str]]:
    """Errors per model field for template sources, from rendering them against the event's sample
    context: syntax errors, unknown variables (also inside {% if %} / {% for %}), blank required parts,
    an SMS too long to send. Empty dict: valid."""
    from .context import sample_context

    errors: dict[str, list[str]] = {}
    channel = Channel(channel)
    language = language or settings.LANGUAGE_CODE
    with translation.override(language):
        sample = sample_context(event, audience)
    for part in PARTS[channel]:
        source = sources.get(part) or ""
        fname = FIELD_FOR_PART[part]
        if part == "subject" and audience == "customer" and CUSTOMER_TEXT_RE.search(source):
            # Anyone can check out as a guest with any email address: a subject carrying what they typed
            # would let the shop deliver their text to someone else's inbox.
            errors.setdefault(fname, []).append(
                "Customer subjects cannot include what a shopper typed (names, addresses, reasons): "
                f"remove {CUSTOMER_TEXT_RE.search(source).group(0)}.")
            continue
        if not source.strip():
            if part in REQUIRED[channel]:
                errors.setdefault(fname, []).append(f"{PART_LABEL[part]} is required for {channel.label}.")
            continue
        try:
            template = _engine_for(part).from_string(source)
        except TemplateSyntaxError as exc:
            errors.setdefault(fname, []).append(f"Template syntax error: {exc}")
            continue
        except Exception as exc:  # a tag that fails to compile in some other way is still a form error
            errors.setdefault(fname, []).append(f"Template error: {type(exc).__name__}: {exc}")
            continue
        missing: set = set()
        ctx = _StrictContext({k: _strict(v, k, missing) for k, v in sample.items()}, autoescape=part == "html",
                             missing=missing)
        try:
            with translation.override(language):
                output = _clean(part, check_output(PART_LABEL[part], template.render(ctx)))
        except Exception as exc:
            errors.setdefault(fname, []).append(f"Rendering failed with sample data: {type(exc).__name__}: {exc}")
            continue
        missing |= set(INVALID_RE.findall(output))
        if missing:
            errors.setdefault(fname, []).append(
                "Unknown variable(s): " + ", ".join(sorted(missing))
                + f". Available: {', '.join(sorted(sample))}.")
        elif part in REQUIRED[channel] and not output:
            errors.setdefault(fname, []).append(f"{PART_LABEL[part]} renders blank with sample data.")
        elif channel in (Channel.SMS, Channel.WHATSAPP) and len(output) > SMS_MAX_CHARS:
            errors.setdefault(fname, []).append(
                f"The {channel.label} message is {len(output)} characters with sample data; the limit is "
                f"{SMS_MAX_CHARS}.")
        elif channel == Channel.PUSH and len(output) > PUSH_MAX_CHARS:
            errors.setdefault(fname, []).append(
                f"The browser notification is {len(output)} characters with sample data; keep it under "
                f"{PUSH_MAX_CHARS} (browsers show about two lines).")
    return errors


def preview(*, event: str, audience: str, channel: str, sources: dict[str, str], language: str = "") -> dict:
    """Render sources against sample data for the admin preview: parts, errors, SMS segments."""
    from .channels.sms import sms_segments
    from .context import sample_context

    language = language or settings.LANGUAGE_CODE
    errors = validate(event=event, audience=audience, channel=channel, sources=sources, language=language)
    result = {"errors": errors, "subject": "", "text": "", "html": "", "sms": None}
    if errors:
        return result
    compiled = {part: _engine_for(part).from_string(sources[part])
                for part in PARTS[Channel(channel)] if sources.get(part)}
    with translation.override(language):
        parts = _finish(_render_parts(compiled, channel, sample_context(event, audience)))
    result.update(parts)
    if channel == Channel.SMS:
        encoding, segments = sms_segments(parts["text"])
        result["sms"] = {"encoding": encoding, "segments": segments, "length": len(parts["text"])}
    return result


def all_default_keys():
    """Every (event, audience, channel) a shipped default must exist for."""
    from .events import EVENTS, MESSAGE_CHANNELS

    for code, event in EVENTS.items():
        for audience in event.audiences:
            for channel in MESSAGE_CHANNELS:
                yield code, audience, channel.value


