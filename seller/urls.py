from django.urls import path

from .views import actions, api_keys, conversation, inbox, inventory, orders, settings, webhooks

app_name = "seller"
urlpatterns = [
    path("", orders.order_list, name="orders"),
    path("orders/<str:number>/", orders.order_detail, name="order_detail"),
    path("orders/<str:number>/action/<slug:action>/", actions.order_action, name="order_action"),
    path("orders/<str:number>/message/", conversation.order_message, name="order_message"),
    path("orders/<str:number>/returns/<str:return_number>/<slug:to>/", actions.return_action,
         name="return_action"),
    path("inventory/", inventory.inventory, name="inventory"),
    path("inventory/<int:product_id>/restock/", inventory.restock, name="inventory_restock"),
    path("inventory/<int:product_id>/edit/", inventory.edit, name="inventory_edit"),
    path("inventory/<int:product_id>/update/", inventory.record_update, name="inventory_update"),
    path("settings/", settings.notification_settings, name="settings"),
    path("settings/toggle/", settings.setting_toggle, name="setting_toggle"),
    path("settings/phone/send/", settings.phone_code_send, name="phone_code_send"),
    path("settings/phone/confirm/", settings.phone_code_confirm, name="phone_code_confirm"),
    path("settings/option/", settings.option_toggle, name="option_toggle"),
    path("settings/review-link/", settings.review_url_save, name="review_url"),
    path("branding/", settings.branding, name="branding"),
    path("branding/preview/", settings.email_preview, name="email_preview"),
    path("feedback/", orders.feedback_list, name="feedback"),
    path("api-keys/", api_keys.api_keys, name="api_keys"),
    path("api-keys/<int:key_id>/revoke/", api_keys.api_key_revoke_view, name="api_key_revoke"),
    path("webhooks/", webhooks.webhook_list, name="webhooks"),
    path("webhooks/<int:endpoint_id>/", webhooks.webhook_detail, name="webhook_detail"),
    path("webhooks/<int:endpoint_id>/ping/", webhooks.webhook_ping_view, name="webhook_ping"),
    path("webhooks/<int:endpoint_id>/rotate/", webhooks.webhook_rotate, name="webhook_rotate"),
    path("webhooks/<int:endpoint_id>/delete/", webhooks.webhook_delete, name="webhook_delete"),
    path("webhooks/<int:endpoint_id>/resend/<int:notification_id>/", webhooks.webhook_resend_view,
         name="webhook_resend"),
    path("inbox/", inbox.inbox, name="inbox"),
    path("inbox/<int:message_id>/read/", inbox.inbox_read, name="inbox_read"),
    path("inbox/read-all/", inbox.inbox_read_all, name="inbox_read_all"),
]
