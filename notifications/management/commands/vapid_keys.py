"""Print a new VAPID key pair for web push, as environment lines for .env."""
from django.core.management.base import BaseCommand

from notifications.vapid import generate_vapid_keys


class Command(BaseCommand):
    help = "Generate a VAPID key pair for web push (VAPID_PUBLIC_KEY / VAPID_PRIVATE_KEY)."

    def handle(self, *args, **options):
        public, private = generate_vapid_keys()
        self.stdout.write(f"VAPID_PUBLIC_KEY={public}\nVAPID_PRIVATE_KEY={private}\n"
                          "VAPID_SUBJECT=mailto:support@your-shop.example\n")
