from django.db import migrations


def fill(apps, schema_editor):
    """Store.webhook_events for the endpoints that exist (webhooks.services keeps it from now on)."""
    Store = apps.get_model("catalog", "Store")
    WebhookEndpoint = apps.get_model("webhooks", "WebhookEndpoint")
    wanted = {}
    for store_id, events in WebhookEndpoint.objects.filter(enabled=True).values_list("store_id", "events"):
        wanted.setdefault(store_id, set()).update(events or {"*"})
    for store_id, events in wanted.items():
        Store.objects.filter(pk=store_id).update(webhook_events=["*"] if "*" in events else sorted(events))


class Migration(migrations.Migration):
    dependencies = [
        ("catalog", "0006_store_webhook_events"),
        ("webhooks", "0001_webhook_endpoints"),
    ]

    operations = [migrations.RunPython(fill, migrations.RunPython.noop)]
