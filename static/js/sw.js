// The service worker (served at /sw.js, scope "/"): shows the shop's browser notifications.
// The payload is JSON from notifications.channels.push: {title, body, url, tag}.
self.addEventListener("install", (event) => { self.skipWaiting(); });
self.addEventListener("activate", (event) => { event.waitUntil(self.clients.claim()); });

self.addEventListener("push", (event) => {
  let payload = {};
  try {
    payload = event.data ? event.data.json() : {};
  } catch (e) {
    payload = { title: event.data ? event.data.text() : "" };
  }
  const title = payload.title || "Notify Market";
  const shown = self.registration.showNotification(title, {
    body: payload.body || "",
    tag: payload.tag || undefined,  // a message delivered twice replaces itself
    data: { url: payload.url || "/" },
    icon: "/static/favicon.svg",
  });
  // Open pages of the shop hear about it too (the page marks it; the browser test reads that).
  const told = self.clients.matchAll({ type: "window", includeUncontrolled: true })
    .then((clients) => clients.forEach((client) => client.postMessage({ type: "push", payload })));
  event.waitUntil(Promise.all([shown, told]));
});

self.addEventListener("notificationclick", (event) => {
  event.notification.close();
  const url = new URL((event.notification.data && event.notification.data.url) || "/", self.location.origin);
  if (url.origin !== self.location.origin) return;  // only ever open the shop itself
  event.waitUntil(self.clients.matchAll({ type: "window" }).then((clients) => {
    for (const client of clients) {
      if (client.url === url.href && "focus" in client) return client.focus();
    }
    return self.clients.openWindow(url.href);
  }));
});
