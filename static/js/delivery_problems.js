// The status page's "messages that did not reach you" form answers 422 with the field's error:
// swap it in (htmx leaves 4xx answers out by default). Loaded once by
// templates/accounts/_order_delivery_problems_slot.html.
(function () {
  "use strict";
  if (window.deliveryProblemsReady) return;
  window.deliveryProblemsReady = true;
  document.addEventListener("htmx:beforeSwap", (event) => {
    const target = event.detail.target;
    if (event.detail.xhr.status === 422 && target && target.id === "delivery-problems") {
      event.detail.shouldSwap = true;
      event.detail.isError = false;
    }
  });
})();
