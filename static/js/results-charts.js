// Renders every <script type="application/json" data-vega-chart="ID"> into the element #ID
// with the vendored vega-embed (static/vendor/vega/). Without JavaScript the table beside
// each chart carries the same numbers.
(function () {
  function render() {
    if (typeof vegaEmbed !== "function") return;
    document.querySelectorAll("script[data-vega-chart]").forEach(function (node) {
      var target = document.getElementById(node.getAttribute("data-vega-chart"));
      if (!target) return;
      var spec = JSON.parse(node.textContent);
      vegaEmbed(target, spec, { actions: { export: true, source: false, compiled: false, editor: false }, renderer: "svg" })
        .then(function () { target.setAttribute("data-rendered", "true"); })
        .catch(function (error) { target.textContent = "The chart could not be drawn: " + error; });
    });
  }
  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", render);
  else render();
})();
