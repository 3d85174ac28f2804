"""Every customer message of every event, in every language, with no English left over.

The events come from notifications/events.py, so an event added later without its German, French
and Spanish templates fails here, naming the event, channel and language that lack them.
"""
import html
import re

import pytest
from django.conf import settings
from django.utils import translation

from notifications.context import sample_context
from notifications.events import Audience
from notifications.rendering import PARTS, all_default_keys, default_path, has_shipped_translation, render

pytestmark = pytest.mark.django_db

OTHER_LANGUAGES = [code for code, _name in settings.LANGUAGES if code != settings.LANGUAGE_CODE]
CUSTOMER_KEYS = sorted((e, c) for e, a, c in all_default_keys() if a == Audience.CUSTOMER)
# English words that are not also words of German, French or Spanish ("in", "an", "on", "no",
# "total", "message", "status", "points", "code", "Link", "Shop", "stock", "Download", "questions", "Subtotal" are, so they
# are not listed).
ENGLISH_WORDS = frozenset("""
the your you yours order orders thank thanks please has have been were with from for and our we us here
this that these those is are it its of to when where delivery delivered deliver shipped shipping shipment
payment paid pay refund refunded return returned items item estimated track tracking account password
sign hi hello not did go through back new now today soon follow within days working cancelled cancel
store confirmed confirm reserved waiting pending expected hope love review unsubscribe
anything nothing something someone hopefully asked again more next step
news changed bought what tier reached welcome benefits ready data deletion delete
verification phone number unit price tax qty backordered carrier parcel arrives arriving
moving latest update sorry late previously reason received approved rejected requested via why
""".split())
TAG = re.compile(r"<(style|script)[^>]*>.*?</\1>|<[^>]+>", re.S)
URL = re.compile(r"(?:https?://|mailto:)\S+|\S+@\S+")
WORD = re.compile(r"[^\W\d_]+", re.U)


def _strings(value):
    """Every string in a context (what the shopper, the seller or the carrier wrote is data)."""
    if isinstance(value, dict):
        for item in value.values():
            yield from _strings(item)
    elif isinstance(value, (list, tuple)):
        for item in value:
            yield from _strings(item)
    elif isinstance(value, str) and len(value) > 1:
        yield value


def english_words(text: str, context: dict) -> list[str]:
    text = html.unescape(TAG.sub(" ", text))
    for value in sorted(set(_strings(context)), key=len, reverse=True):
        text = text.replace(value, " ").replace(value[0].upper() + value[1:], " ")
    text = URL.sub(" ", text)
    return sorted({w for w in WORD.findall(text) if w.lower() in ENGLISH_WORDS})


def _rendered(event, channel, language):
    with translation.override(language):
        ctx = sample_context(event, Audience.CUSTOMER)
    return ctx, render(event=event, audience=Audience.CUSTOMER, channel=channel, language=language, context=ctx)


@pytest.mark.parametrize("event,channel", CUSTOMER_KEYS)
def test_every_customer_message_renders_in_every_language(event, channel):
    for language in [settings.LANGUAGE_CODE, *OTHER_LANGUAGES]:
        _ctx, rendered = _rendered(event, channel, language)
        assert not rendered.failures, (event, channel, language, rendered.failures)
        for part in PARTS[channel]:
            if part in ("subject", "text") or channel == "email":
                assert getattr(rendered, part).strip(), f"{event} {channel} {language}: {part} is blank"


def untranslated(event, channel, *, shipped=has_shipped_translation) -> list[str]:
    """What is missing or still English in the German, French and Spanish renderings, one line each."""
    problems = []
    for language in OTHER_LANGUAGES:
        if not shipped(event, Audience.CUSTOMER, channel, language):
            files = ", ".join(default_path(event, Audience.CUSTOMER, channel, p, language) for p in PARTS[channel])
            problems.append(f"{event} / {channel} / {language}: no shipped translation (add templates/{files})")
            continue
        ctx, rendered = _rendered(event, channel, language)
        assert rendered.source.startswith(f"file default ({language})"), rendered.source
        for part in PARTS[channel]:
            found = english_words(getattr(rendered, part), ctx)
            if found:
                problems.append(f"{event} / {channel} / {language} / {part}: English left: {', '.join(found)}")
    return problems


@pytest.mark.parametrize("event,channel", CUSTOMER_KEYS)
def test_no_english_left_in_a_translated_message(event, channel):
    problems = untranslated(event, channel)
    assert not problems, "Untranslated customer messages:\n" + "\n".join(problems)


def test_the_english_detector_sees_english():
    """The check above is only worth something if it flags the English originals."""
    flagged = 0
    for event, channel in CUSTOMER_KEYS:
        ctx, rendered = _rendered(event, channel, settings.LANGUAGE_CODE)
        if any(english_words(getattr(rendered, part), ctx) for part in PARTS[channel]):
            flagged += 1
    assert flagged >= 0.9 * len(CUSTOMER_KEYS), f"only {flagged} of {len(CUSTOMER_KEYS)} English messages flagged"


def test_an_event_without_translations_is_named():
    """A new event with English templates only is reported by event, channel and language."""
    problems = untranslated("order.shipped", "sms", shipped=lambda *args: False)
    assert problems[0].startswith("order.shipped / sms / de: no shipped translation (add templates/"
                                  "notifications/order.shipped/customer/de/sms_body.txt)")
    assert [p.split(" / ")[2][:2] for p in problems] == OTHER_LANGUAGES


def test_an_english_sentence_in_a_translation_is_caught(tmp_path, monkeypatch):
    """A German template that still says "Your order has shipped" fails the check, naming the words."""
    from notifications import rendering

    folder = tmp_path / "notifications" / "order.shipped" / "customer" / "de"
    folder.mkdir(parents=True)
    (folder / "sms_body.txt").write_text("{{ store.name }}: Your order has shipped. {{ shipment.tracking_url }}")
    engine = rendering._engine(autoescape=False)
    engine.dirs.insert(0, str(tmp_path))
    monkeypatch.setattr(rendering, "TEXT_ENGINE", engine)
    monkeypatch.setattr(rendering, "TEMPLATE_DIR", tmp_path)
    problems = untranslated("order.shipped", "sms", shipped=lambda e, a, c, lang: lang == "de")
    assert any(p.startswith("order.shipped / sms / de / text: English left: Your, has, order, shipped")
               for p in problems), problems
