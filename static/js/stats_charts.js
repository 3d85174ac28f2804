// Delivery statistics: draws the charts from the numbers the page carries in
// <script type="application/json" id="stats-data"> (json_script; the CSP allows no inline script).
// Chart.js is vendored under static/vendor/chartjs/. The same numbers are in the tables beside.
(function () {
  "use strict";
  var source = document.getElementById("stats-data");
  if (!source || typeof Chart === "undefined") { return; }
  var data = JSON.parse(source.textContent);
  var colours = { delivered: "#1a7f37", accepted: "#1f6feb", bounced: "#bf8700", failed: "#cf222e" };
  var labels = { delivered: "Delivered", accepted: "Accepted, no receipt yet", bounced: "Bounced", failed: "Failed" };
  var kinds = ["delivered", "accepted", "bounced", "failed"];
  Chart.defaults.font.family = getComputedStyle(document.body).fontFamily;
  Chart.defaults.animation = false; // draw at once (and screenshots show the final chart)

  function datasets(prefix) {
    return kinds.map(function (kind) {
      return { label: labels[kind], data: data[prefix + kind], backgroundColor: colours[kind], borderWidth: 0 };
    });
  }
  var stacked = {
    responsive: true, maintainAspectRatio: false,
    plugins: { legend: { position: "bottom" }, tooltip: { mode: "index", intersect: false } },
    scales: { x: { stacked: true, grid: { display: false } }, y: { stacked: true, beginAtZero: true, ticks: { precision: 0 } } }
  };
  var series = document.getElementById("chart-series");
  if (series) {
    new Chart(series, { type: "bar", data: { labels: data.periods, datasets: datasets("") }, options: stacked });
  }
  var channels = document.getElementById("chart-channels");
  if (channels) {
    var horizontal = JSON.parse(JSON.stringify(stacked));
    horizontal.indexAxis = "y";
    horizontal.scales = { x: { stacked: true, beginAtZero: true, ticks: { precision: 0 } }, y: { stacked: true, grid: { display: false } } };
    new Chart(channels, { type: "bar", data: { labels: data.channels, datasets: datasets("channel_") }, options: horizontal });
  }
  // A preset fills the date inputs; a typed date clears the preset.
  var form = document.querySelector("[data-testid=stats-filter]");
  if (form) {
    form.addEventListener("change", function (event) {
      if (event.target.name === "start" || event.target.name === "end") { form.elements.preset.value = ""; }
      if (event.target.name === "preset" && event.target.value) { form.submit(); }
    });
  }
})();
