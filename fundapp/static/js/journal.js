// The new-entry form: add a line without a round trip and show live debit/credit totals.
// Progressive enhancement only: without JavaScript the "Add a line" button asks the server, and the server checks
// every amount. Amounts are summed as integer cents (BigInt), never as floating point.
(function () {
  "use strict";

  var LINE_NAME = /^lines-(\d+)-/;

  function toCents(text) {
    var raw = (text || "").replace(/[,，¥￥\s]/g, "");
    if (!/^\d+(\.\d{0,2})?$/.test(raw)) { return null; }
    var parts = raw.split(".");
    var fraction = ((parts[1] || "") + "00").slice(0, 2);
    return BigInt(parts[0]) * 100n + BigInt(fraction);
  }

  function formatCents(cents) {
    var negative = cents < 0n;
    var digits = (negative ? -cents : cents).toString().padStart(3, "0");
    var yuan = digits.slice(0, -2).replace(/\B(?=(\d{3})+(?!\d))/g, ",");
    return (negative ? "-" : "") + yuan + "." + digits.slice(-2);
  }

  function sumColumn(table, column) {
    var total = 0n;
    var valid = true;
    table.querySelectorAll("tbody [name$='-" + column + "']").forEach(function (input) {
      if (!input.value.trim()) { return; }
      var cents = toCents(input.value);
      if (cents === null) { valid = false; } else { total += cents; }
    });
    return valid ? total : null;
  }

  function updateTotals(table) {
    var foot = table.querySelector("[data-totals]");
    if (!foot) { return; }
    var debit = sumColumn(table, "debit");
    var credit = sumColumn(table, "credit");
    foot.hidden = false;
    foot.querySelector("[data-total='debit']").textContent = debit === null ? "?" : formatCents(debit);
    foot.querySelector("[data-total='credit']").textContent = credit === null ? "?" : formatCents(credit);
    var status = foot.querySelector("[data-total='status']");
    status.className = "";
    if (debit === null || credit === null || (debit === 0n && credit === 0n)) {
      status.textContent = "";
    } else if (debit === credit && debit > 0n) {
      status.textContent = foot.getAttribute("data-balanced");
      status.className = "badge";
    } else {
      status.textContent = foot.getAttribute("data-off") + " " + formatCents(debit - credit);
      status.className = "badge warn";
    }
  }

  function lineIndex(row) {
    var named = row.querySelector("[name]");
    var match = named ? LINE_NAME.exec(named.getAttribute("name")) : null;
    return match ? parseInt(match[1], 10) : -1;
  }

  function renumber(element, index) {
    ["name", "id", "for"].forEach(function (attribute) {
      var value = element.getAttribute(attribute);
      if (value && LINE_NAME.test(value)) {
        element.setAttribute(attribute, value.replace(LINE_NAME, "lines-" + index + "-"));
      }
    });
  }

  function addLine(table) {
    var rows = table.querySelectorAll("tbody tr[data-line]");
    if (!rows.length) { return; }
    var next = 0;
    rows.forEach(function (row) { next = Math.max(next, lineIndex(row) + 1); });
    var clone = rows[rows.length - 1].cloneNode(true);
    clone.querySelectorAll(".error").forEach(function (error) { error.remove(); });
    clone.querySelectorAll(".has-error").forEach(function (cell) { cell.classList.remove("has-error"); });
    clone.querySelectorAll("[name], [id], label[for]").forEach(function (element) { renumber(element, next); });
    clone.querySelectorAll("input").forEach(function (input) { input.value = ""; });
    clone.querySelectorAll("select").forEach(function (select) { select.selectedIndex = 0; });
    rows[rows.length - 1].parentNode.appendChild(clone);
    var first = clone.querySelector("select, input");
    if (first) { first.focus(); }
  }

  document.addEventListener("DOMContentLoaded", function () {
    var form = document.getElementById("entry-form");
    var table = form && form.querySelector("[data-lines]");
    if (!table || typeof BigInt !== "function") { return; }
    var addButton = form.querySelector("[name='add_line']");
    if (addButton) {
      addButton.addEventListener("click", function (event) {
        event.preventDefault();
        addLine(table);
      });
    }
    table.addEventListener("input", function () { updateTotals(table); });
    updateTotals(table);
  });
})();
