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
