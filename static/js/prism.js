// PRISM Catalog's own behaviour, small and without a framework (no inline scripts, so
// a Content-Security-Policy of script-src 'self' holds). Every page loads it.
(function () {
  "use strict";

  // Buttons that act for good (approve, reject, withdraw) ask first: data-confirm
  // holds the question. Without JavaScript the form simply submits.
  document.addEventListener("click", function (event) {
    var button = event.target.closest("button[data-confirm]");
    if (button && !window.confirm(button.getAttribute("data-confirm"))) {
      event.preventDefault();
    }
  });

  // The catalog's "compare" ticks survive paging and filtering (they are kept for the
  // tab in sessionStorage), and a fifth tick is refused at once, saying why.
  var KEY = "prism-compare";
  var MAX = 4;
  function ticked() {
    try { return JSON.parse(sessionStorage.getItem(KEY) || "[]"); } catch (e) { return []; }
  }
  function keep(names) { sessionStorage.setItem(KEY, JSON.stringify(names)); }
  function say(text) {
    var status = document.getElementById("compare-status");
    if (status) { status.textContent = text; }
  }
  function restore() {
    var form = document.getElementById("compare-form");
    if (!form) { return; }
    var names = ticked();
    form.querySelectorAll("input[name=names]").forEach(function (box) {
      box.checked = names.indexOf(box.value) !== -1;
    });
    say(names.length ? names.length + " of " + MAX + " lines chosen to compare: " + names.join(", ") : "");
  }
  document.addEventListener("change", function (event) {
    var box = event.target;
    if (!box.matches || !box.matches("#compare-form input[name=names]")) { return; }
    var names = ticked().filter(function (n) { return n !== box.value; });
    if (box.checked) {
      if (names.length >= MAX) {
        box.checked = false;
        say("At most " + MAX + " lines can be compared: untick one first.");
        return;
      }
      names.push(box.value);
    }
    keep(names);
    say(names.length ? names.length + " of " + MAX + " lines chosen to compare: " + names.join(", ") : "");
  });
  document.addEventListener("submit", function (event) {
    var form = event.target;
    if (form.id !== "compare-form") { return; }
    // Ticks made on other pages travel with the form.
    var here = Array.prototype.map.call(form.querySelectorAll("input[name=names]"), function (b) { return b.value; });
    ticked().forEach(function (name) {
      if (here.indexOf(name) === -1) {
        var hidden = document.createElement("input");
        hidden.type = "hidden"; hidden.name = "names"; hidden.value = name;
        form.appendChild(hidden);
      }
    });
  });
  document.addEventListener("DOMContentLoaded", restore);
  document.addEventListener("htmx:afterSettle", restore);
})();

// Small behaviours the pages use, without inline event handlers (the
// Content-Security-Policy allows no inline script): `data-select-on-focus`
// selects a field's text when it gets focus; `data-submit-on-change` submits
// the field's form when its value changes.
document.addEventListener("focusin", (event) => {
  if (event.target.matches && event.target.matches("[data-select-on-focus]")) event.target.select();
});
document.addEventListener("change", (event) => {
  if (event.target.matches && event.target.matches("[data-submit-on-change]") && event.target.form) {
    event.target.form.submit();
  }
});
