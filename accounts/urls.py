from django.contrib.auth import views as auth_views
from django.urls import path, reverse_lazy

from . import delivery_views, security_views, views
from .dashboard import privacy_views as privacy
from .dashboard import views as dashboard

app_name = "accounts"
urlpatterns = [
    path("login/", auth_views.LoginView.as_view(template_name="accounts/login.html",
                                                redirect_authenticated_user=True), name="login"),
    path("logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("signup/", views.signup, name="signup"),
    path("signup/confirm/<str:token>/", views.signup_confirm_view, name="signup_confirm"),
    path("password/", auth_views.PasswordChangeView.as_view(
        template_name="accounts/password_change_form.html",
        success_url=reverse_lazy("accounts:password_change_done")), name="password_change"),
    path("password/done/", auth_views.PasswordChangeDoneView.as_view(
        template_name="accounts/password_change_done.html"), name="password_change_done"),
    path("password/reset/", security_views.password_reset, name="password_reset"),
    path("password/reset/sent/", security_views.password_reset_done, name="password_reset_done"),
    path("reset/<uidb64>/<token>/", security_views.password_reset_confirm, name="password_reset_confirm"),
    path("reset/done/", security_views.password_reset_complete, name="password_reset_complete"),
    path("unsubscribe/<str:token>/", views.unsubscribe, name="unsubscribe"),
    path("loyalty/", security_views.loyalty, name="loyalty"),
    path("security/", security_views.security, name="security"),
    path("security/sign-out-everywhere/", security_views.sign_out_everywhere, name="sign_out_everywhere"),
    path("secure/<str:token>/", security_views.secure_account, name="secure_account"),
    path("", dashboard.dashboard, name="dashboard"),
    path("orders/<str:number>/", dashboard.order_status, name="order_detail"),
    path("orders/<str:number>/cancel/", dashboard.order_cancel, name="order_cancel"),
    path("orders/<str:number>/delivery/", delivery_views.customer_delivery_problems, name="delivery_problems"),
    path("delivery/confirm/<str:token>/", delivery_views.delivery_confirm, name="delivery_confirm"),
    path("orders/<str:number>/return/", dashboard.order_return, name="order_return"),
    path("orders/<str:number>/pay/", dashboard.order_pay, name="order_pay"),
    path("orders/<str:number>/feedback/", dashboard.order_feedback, name="order_feedback"),
    path("orders/<str:number>/ask/", dashboard.order_ask, name="order_ask"),
    path("preferences/", dashboard.preferences, name="preferences"),
    path("preferences/toggle/", dashboard.preference_toggle, name="preference_toggle"),
    path("inbox/", dashboard.inbox, name="inbox"),
    path("inbox/<int:message_id>/read/", dashboard.inbox_read, name="inbox_read"),
    path("inbox/read-all/", dashboard.inbox_read_all, name="inbox_read_all"),
    # Privacy (issue 16): download my data, delete my account.
    path("privacy/", privacy.privacy, name="privacy"),
    path("privacy/export/", privacy.privacy_export, name="privacy_export"),
    path("privacy/export/<str:token>/", privacy.privacy_export_download, name="privacy_export_download"),
    path("privacy/delete/", privacy.privacy_delete_request, name="privacy_delete_request"),
    path("privacy/delete/<str:token>/", privacy.privacy_delete_confirm, name="privacy_delete_confirm"),
]
