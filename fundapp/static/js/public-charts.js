/* Public-site charts: each <div data-chart="ID"> is drawn by Apache ECharts (vendored, static/vendor/echarts)
   from the JSON in <script type="application/json" id="ID"> (no inline script, so the CSP holds).

   A spec is {"type": ..., ...}; money values are strings (exact decimals from the server) and become numbers
   here only to be drawn. Every chart has a table alternative in the page next to it.
     {"type": "sankey", "nodes": ["name", ...], "links": [{"source": "name", "target": "name", "value": "1.00"}]}
     {"type": "line" | "bar", "labels": ["2026-01", ...], "series": [{"name": "...", "values": ["1.00", ...]}],
      "stack": false}
     {"type": "pie", "items": [{"name": "...", "value": "1.00"}]}
*/
(function () {
  "use strict";

  function num(value) { return value === null || value === undefined ? 0 : Number(value); }

  function money(value) {
    return Number(value).toLocaleString(document.documentElement.lang || "zh-CN",
      {minimumFractionDigits: 2, maximumFractionDigits: 2});
  }

  function option(spec) {
    var tooltip = {trigger: "item", valueFormatter: money, confine: true};
    if (spec.type === "sankey") {
      return {
        tooltip: tooltip,
        series: [{
          type: "sankey", left: 8, right: 90, top: 8, bottom: 8, nodeGap: 10, draggable: false,
          emphasis: {focus: "adjacency"}, lineStyle: {color: "gradient", curveness: 0.5},
          label: {fontSize: 12},
          data: spec.nodes.map(function (name) { return {name: name}; }),
          links: spec.links.map(function (link) {
            return {source: link.source, target: link.target, value: num(link.value)};
          })
        }]
      };
    }
    if (spec.type === "pie") {
      return {
        tooltip: tooltip,
        series: [{type: "pie", radius: ["35%", "70%"],
                  data: spec.items.map(function (item) { return {name: item.name, value: num(item.value)}; })}]
      };
    }
    return {
      tooltip: {trigger: "axis", valueFormatter: money, confine: true},
      legend: {top: 0},
      grid: {left: 8, right: 16, top: 32, bottom: 8, containLabel: true},
      xAxis: {type: "category", data: spec.labels},
      yAxis: {type: "value"},
      series: spec.series.map(function (series) {
        return {name: series.name, type: spec.type, stack: spec.stack ? "total" : undefined,
                smooth: spec.type === "line", data: series.values.map(num)};
      })
    };
  }

  function draw(element) {
    var source = document.getElementById(element.getAttribute("data-chart"));
    if (!source || typeof echarts === "undefined") { return; }
    var spec = JSON.parse(source.textContent || "null");
    if (!spec) { return; }
    element.style.height = (Number(element.getAttribute("data-height")) || 320) + "px";
    var chart = echarts.init(element, null, {renderer: "svg"});
    chart.setOption(option(spec));
    window.addEventListener("resize", function () { chart.resize(); });
  }

  document.addEventListener("DOMContentLoaded", function () {
    Array.prototype.forEach.call(document.querySelectorAll("[data-chart]"), draw);
  });
}());
