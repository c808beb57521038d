// Renders every element with data-vega-spec="ID" from the JSON in <script id="ID"> (Django's
// json_script, which escapes it) with the vendored vega-embed (static/vendor/vega/). Without
// JavaScript the table beside each chart carries the same numbers.
(function () {
  function render() {
    if (typeof vegaEmbed !== "function") return;
    document.querySelectorAll("[data-vega-spec]").forEach(function (target) {
      if (target.getAttribute("data-rendered")) return;
      var source = document.getElementById(target.getAttribute("data-vega-spec"));
      if (!source) return;
      target.setAttribute("data-rendered", "pending");
      vegaEmbed(target, JSON.parse(source.textContent), {
        actions: { export: true, source: false, compiled: false, editor: false },
        renderer: "svg",
        // Vega's expressions interpreted, not compiled with new Function: the pages'
        // Content-Security-Policy allows no eval (vega-interpreter, vendored beside vega).
        ast: true,
        expr: vega.expressionInterpreter,
      })
        .then(function () { target.setAttribute("data-rendered", "true"); })
        .catch(function (error) { target.textContent = "The chart could not be drawn: " + error; });
    });
  }
  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", render);
  else render();
})();
