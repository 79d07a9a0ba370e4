// fundapp: the progress bar of an annual report being made. Polls the page's JSON status endpoint and reloads the
// page when the work has finished. Without JavaScript the page refreshes itself (a <noscript> meta refresh).
(function () {
  "use strict";
  var INTERVAL = 1000;

  function start(box) {
    var url = box.getAttribute("data-status-url");
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
      text.textContent = box.getAttribute("data-label-working") + ": " + status.percent + "%";
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
    var box = document.getElementById("annual-progress");
    if (box) { start(box); }
  });
})();
