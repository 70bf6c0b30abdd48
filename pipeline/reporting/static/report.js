/* Charts and sortable tables. Chart data comes from <script type="application/json"> blocks,
   so no page contains inline code and no client text is ever evaluated. */
(function () {
  "use strict";

  function drawCharts() {
    document.querySelectorAll("div[data-chart]").forEach(function (div) {
      var block = document.getElementById(div.getAttribute("data-chart"));
      if (!block || typeof Plotly === "undefined") { return; }
      var figure = JSON.parse(block.textContent);
      Plotly.newPlot(div, figure.data, figure.layout,
        { displaylogo: false, responsive: true, locale: "ru" }).then(function () {
        div.setAttribute("data-rendered", "true");
      });
    });
  }

  function cellValue(row, index, numeric) {
    var cell = row.cells[index];
    var raw = cell.hasAttribute("data-value") ? cell.getAttribute("data-value") : cell.textContent;
    if (!numeric) { return raw.trim().toLowerCase(); }
    var value = parseFloat(raw);
    return isNaN(value) ? null : value;
  }

  function sortTable(table, th) {
    var index = Array.prototype.indexOf.call(th.parentNode.children, th);
    var numeric = th.getAttribute("data-sort") === "num";
    var ascending = !th.classList.contains("sorted-asc");
    table.querySelectorAll("th").forEach(function (h) {
      h.classList.remove("sorted-asc", "sorted-desc");
    });
    th.classList.add(ascending ? "sorted-asc" : "sorted-desc");
    var body = table.tBodies[0];
    var rows = Array.prototype.slice.call(body.rows);
    rows.sort(function (a, b) {
      var x = cellValue(a, index, numeric), y = cellValue(b, index, numeric);
      if (x === y) { return 0; }
      if (x === null) { return 1; }  /* empty cells last either way */
      if (y === null) { return -1; }
      var order = numeric ? x - y : x.localeCompare(y, "ru");
      return ascending ? order : -order;
    });
    rows.forEach(function (row) { body.appendChild(row); });
  }

  function sortableTables() {
    document.querySelectorAll("table.sortable").forEach(function (table) {
      table.querySelectorAll("th[data-sort]").forEach(function (th) {
        th.addEventListener("click", function () { sortTable(table, th); });
      });
    });
  }

  document.addEventListener("DOMContentLoaded", function () {
    sortableTables();
    drawCharts();
  });
})();
