// fundapp: the progress bar of long work done by the task worker (a donation import, an annual report).
// Every element with a data-progress attribute polls the JSON status endpoint named in its data-status-url and
// reloads the page when the work has finished. Without JavaScript the page refreshes itself (a <noscript> meta
// refresh) instead.
//
// The element holds a <progress> and a .progress-text. Its text reads "<label>: done / total (percent%)", or
// "<label>: percent%" when data-progress="percent". The label is data-label-<phase>, else data-label-working;
// data-label-waiting is shown while the worker has not started.
(function () {
  "use strict";
  var INTERVAL = 1000;

  function start(box) {
    var url = box.getAttribute("data-status-url");
    var percentOnly = box.getAttribute("data-progress") === "percent";
    var bar = box.querySelector("progress");
    var text = box.querySelector(".progress-text");

    function show(status) {
      if (status.finished) {
        window.location.reload();
        return false;
      }
      if (status.phase === "waiting" || !status.total) {
        text.textContent = box.getAttribute("data-label-waiting");
        bar.removeAttribute("value");  // an indeterminate bar
        return true;
      }
      bar.max = status.total;
      bar.value = status.done;
      var label = box.getAttribute("data-label-" + status.phase) || box.getAttribute("data-label-working") || "";
      if (percentOnly) {
        text.textContent = label + ": " + status.percent + "%";
      } else {
        text.textContent = label + ": " + status.done.toLocaleString() + " / " + status.total.toLocaleString() +
          " (" + status.percent + "%)";
      }
      return true;
    }

    function poll() {
      fetch(url, {credentials: "same-origin", headers: {"Accept": "application/json"}, cache: "no-store"})
        .then(function (response) {
          if (!response.ok) { throw new Error(String(response.status)); }
          return response.json();
        })
        .then(function (status) { if (show(status)) { window.setTimeout(poll, INTERVAL); } })
        .catch(function () { window.setTimeout(poll, INTERVAL * 5); });
    }

    window.setTimeout(poll, INTERVAL);
  }

  document.addEventListener("DOMContentLoaded", function () {
    var boxes = document.querySelectorAll("[data-progress]");
    for (var i = 0; i < boxes.length; i++) { start(boxes[i]); }
  });
})();
