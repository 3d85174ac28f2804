"""Which language a page is in.

Django's LocaleMiddleware reads the language the visitor chose on the site (a cookie), else the
browser's Accept-Language. ``AccountLanguageMiddleware`` runs after authentication: a signed-in
customer who has not chosen on this browser reads their account's language, and the seller
dashboard, the admin and the API stay English (they are not translated).
"""
from django.conf import settings
from django.utils import translation

ENGLISH_ONLY_PREFIXES = ("/seller/", "/admin/", "/api/", "/ops/", "/webhooks/")


class AccountLanguageMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        language = None
        if request.path_info.startswith(ENGLISH_ONLY_PREFIXES):
            language = settings.LANGUAGE_CODE
        elif (settings.LANGUAGE_COOKIE_NAME not in request.COOKIES
              and getattr(request, "user", None) is not None and request.user.is_authenticated
              and getattr(request.user, "language", "") in dict(settings.LANGUAGES)):
            language = request.user.language
        if language and language != translation.get_language():
            translation.activate(language)
            request.LANGUAGE_CODE = language
        return self.get_response(request)
