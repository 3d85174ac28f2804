// "Turn on notifications in this browser" (customer preferences, seller settings).
// Markup: templates/notifications/_push_toggle.html. No inline script (CSP).
(function () {
  "use strict";

  function keyBytes(b64url) {
    let s = b64url.replace(/-/g, "+").replace(/_/g, "/");
    s += "=".repeat((4 - (s.length % 4)) % 4);
    const raw = atob(s);
    const out = new Uint8Array(raw.length);
    for (let i = 0; i < raw.length; i++) out[i] = raw.charCodeAt(i);
    return out;
  }

  function init(box) {
    const on = box.querySelector("[data-push-on]");
    const off = box.querySelector("[data-push-off]");
    const status = box.querySelector("[data-push-status]");
    const say = (key) => { status.textContent = box.getAttribute("data-msg-" + key) || ""; box.setAttribute("data-state", key); };
    const show = (subscribed) => { on.hidden = subscribed; off.hidden = !subscribed; };

    if (!("serviceWorker" in navigator) || !("PushManager" in window) || !("Notification" in window)) {
      on.disabled = true;
      say("unsupported");
      return;
    }
    const post = (url, body) => fetch(url, {
      method: "POST", credentials: "same-origin",
      headers: { "Content-Type": "application/json", "X-CSRFToken": box.getAttribute("data-csrf") },
      body: JSON.stringify(body),
    });
    const register = () => navigator.serviceWorker.register(box.getAttribute("data-sw-url"), { scope: "/" });

    register().then((reg) => reg.pushManager.getSubscription()).then((sub) => {
      show(!!sub);
      if (sub) say("on");
    }).catch(() => show(false));

    on.addEventListener("click", async () => {
      on.disabled = true;
      try {
        const permission = await Notification.requestPermission();
        if (permission !== "granted") { say("denied"); return; }
        await register();
        const reg = await navigator.serviceWorker.ready;
        const sub = await reg.pushManager.subscribe({
          userVisibleOnly: true, applicationServerKey: keyBytes(box.getAttribute("data-vapid-key")),
        });
        const answer = await post(box.getAttribute("data-subscribe-url"), sub.toJSON());
        if (!answer.ok) { say("failed"); return; }
        show(true);
        say("on");
      } catch (e) {
        say("failed");
      } finally {
        on.disabled = false;
      }
    });

    off.addEventListener("click", async () => {
      const reg = await navigator.serviceWorker.getRegistration("/");
      const sub = reg && await reg.pushManager.getSubscription();
      if (sub) {
        await post(box.getAttribute("data-unsubscribe-url"), { endpoint: sub.endpoint });
        await sub.unsubscribe();
      }
      show(false);
      say("off");
    });
  }

  if ("serviceWorker" in navigator) {
    // The service worker tells open pages about a push it showed.
    navigator.serviceWorker.addEventListener("message", (event) => {
      if (event.data && event.data.type === "push") {
        document.documentElement.setAttribute("data-last-push", JSON.stringify(event.data.payload || {}));
      }
    });
  }
  document.addEventListener("DOMContentLoaded", () => document.querySelectorAll("[data-push]").forEach(init));
})();
