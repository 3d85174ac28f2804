"""What a notification template may do, enforced when it is compiled and while it renders.

Staff edit templates in the admin, so the template language is narrowed for them (and for the
shipped defaults, which pass the same rules):

- ``{% include %}`` / ``{% extends %}`` take a quoted name under ``notifications/`` only: no
  relative (``../x``), absolute or variable names, which could pull in any template on the site.
- ``{% debug %}`` (dumps the whole context and the loaded modules) is refused, and ``{% load %}``
  is limited to formatting libraries.
- Padding filters (``ljust``, ``rjust``, ``center``) are capped so one filter cannot build a
  100 MB string.
- Rendering has a budget: ``BudgetContext`` stops a render that runs longer than
  ``NOTIFY_TEMPLATE_RENDER_SECONDS`` (a loop nested over a string's characters…), and output longer
  than ``NOTIFY_TEMPLATE_MAX_CHARS`` is refused.
- The data a template sees is read-only: calling a method that would change it
  (``{{ lines.pop }}``, ``{{ order.clear }}``) fails the render instead of editing the message data.

Used as an engine builtin by notifications.rendering (registered after Django's own, so these
definitions replace the default ones in those engines only).
"""
import time

from django import template
from django.conf import settings
from django.template import Context, TemplateSyntaxError
from django.template import defaultfilters, loader_tags

register = template.Library()

ALLOWED_PREFIX = "notifications/"
ALLOWED_LIBRARIES = {"humanize", "i18n", "l10n", "tz"}
MAX_PAD_WIDTH = 200
# Read the clock every this many context operations (a monotonic() call each time would be wasteful).
CHECK_EVERY = 64


class RenderBudgetExceeded(Exception):
    """A template took too long or produced too much; the message says which."""


class TemplateMutationError(Exception):
    """A template called a method that would change the data it was given."""


def render_seconds() -> float:
    return float(getattr(settings, "NOTIFY_TEMPLATE_RENDER_SECONDS", 2.0))


def max_chars() -> int:
    return int(getattr(settings, "NOTIFY_TEMPLATE_MAX_CHARS", 200_000))


def check_output(label: str, value: str) -> str:
    limit = max_chars()
    if len(value) > limit:
        raise RenderBudgetExceeded(f"{label} is {len(value):,} characters; the limit is {limit:,}.")
    return value


# --- tags ---------------------------------------------------------------------------------------

def _checked_name(token, tag: str) -> None:
    bits = token.split_contents()
    if len(bits) < 2:
        raise TemplateSyntaxError(f"{{% {tag} %}} needs a template name.")
    name = bits[1]
    if len(name) < 2 or name[0] not in "\"'" or name[-1] != name[0]:
        raise TemplateSyntaxError(
            f"{{% {tag} %}} takes a quoted template name under {ALLOWED_PREFIX} (not a variable): {name}")
    literal = name[1:-1]
    parts = literal.split("/")
    if not literal.startswith(ALLOWED_PREFIX) or ".." in parts or "." in parts or "\\" in literal:
        raise TemplateSyntaxError(
            f"{{% {tag} {name} %}}: only templates under {ALLOWED_PREFIX} can be used (no relative or "
            "absolute paths).")


@register.tag("include")
def do_include(parser, token):
    _checked_name(token, "include")
    return loader_tags.do_include(parser, token)


@register.tag("extends")
def do_extends(parser, token):
    _checked_name(token, "extends")
    return loader_tags.do_extends(parser, token)


@register.tag("debug")
def do_debug(parser, token):
    raise TemplateSyntaxError("{% debug %} is not allowed in notification templates.")


@register.tag("load")
def do_load(parser, token):
    from django.template.defaulttags import load

    bits = token.split_contents()
    names = bits[1:]
    if "from" in names:
        names = names[names.index("from") + 1:]
    refused = [name for name in names if name not in ALLOWED_LIBRARIES]
    if refused:
        raise TemplateSyntaxError(f"{{% load {' '.join(refused)} %}} is not allowed in notification templates "
                                  f"(allowed: {', '.join(sorted(ALLOWED_LIBRARIES))}).")
    return load(parser, token)


# --- filters ------------------------------------------------------------------------------------

def _capped(width):
    try:
        width = int(width)
    except (TypeError, ValueError):
        return width
    if width > MAX_PAD_WIDTH:
        raise TemplateSyntaxError(f"Padding wider than {MAX_PAD_WIDTH} characters is not allowed.")
    return width


@register.filter(is_safe=True)
def ljust(value, arg):
    return defaultfilters.ljust(value, _capped(arg))


@register.filter(is_safe=True)
def rjust(value, arg):
    return defaultfilters.rjust(value, _capped(arg))


@register.filter(is_safe=True)
def center(value, arg):
    return defaultfilters.center(value, _capped(arg))


# --- the context ----------------------------------------------------------------------------------

class BudgetContext(Context):
    """A Context that raises RenderBudgetExceeded once its render has run past the deadline.

    Every loop iteration sets a variable and every output of a variable reads one, so checking here
    bounds loops (however nested) without a timer thread or signal."""

    def __init__(self, *args, seconds: float | None = None, **kwargs):
        super().__init__(*args, **kwargs)
        self.seconds = render_seconds() if seconds is None else seconds
        self.deadline = time.monotonic() + self.seconds
        self._ops = 0

    def _tick(self):
        self._ops += 1
        if self._ops % CHECK_EVERY == 0 and time.monotonic() > self.deadline:
            raise RenderBudgetExceeded(f"Rendering took longer than {self.seconds:g} s.")

    def __getitem__(self, key):
        self._tick()
        return super().__getitem__(key)

    def __setitem__(self, key, value):
        self._tick()
        super().__setitem__(key, value)

    def get(self, key, otherwise=None):
        self._tick()
        return super().get(key, otherwise)

    def push(self, *args, **kwargs):
        self._tick()
        return super().push(*args, **kwargs)

    def update(self, other_dict):
        self._tick()
        return super().update(other_dict)

    def new(self, values=None):
        new_context = super().new(values)
        new_context.seconds, new_context.deadline, new_context._ops = self.seconds, self.deadline, self._ops
        return new_context


def _refuse(name):
    def method(self, *args, **kwargs):
        raise TemplateMutationError(f"“{name}” would change the message data; templates can only read it.")

    method.__name__ = name
    return method


_DICT_MUTATORS = ("pop", "popitem", "clear", "setdefault", "update", "__setitem__", "__delitem__")
_LIST_MUTATORS = ("pop", "clear", "reverse", "sort", "append", "extend", "insert", "remove", "__setitem__",
                  "__delitem__")


class ReadOnlyDict(dict):
    """A dict whose mutating methods raise when a template calls them."""


class ReadOnlyList(list):
    pass


for _name in _DICT_MUTATORS:
    setattr(ReadOnlyDict, _name, _refuse(_name))
for _name in _LIST_MUTATORS:
    setattr(ReadOnlyList, _name, _refuse(_name))


def read_only(value, dict_class=ReadOnlyDict):
    """A deep copy of plain context data with read-only dicts and lists."""
    if isinstance(value, dict):
        return dict_class((k, read_only(v, dict_class)) for k, v in value.items())
    if isinstance(value, (list, tuple)):
        return ReadOnlyList(read_only(v, dict_class) for v in value)
    return value
