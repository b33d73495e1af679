// Filters by status, family and node, kept in the URL fragment
// (#status=fail,warn&family=zk&node=m1) so a link shows the same view.
// Reads only data attributes and the fragment; writes only classes,
// checkbox states, text and the fragment: no remote text becomes markup.
(function () {
  "use strict";
  var bar = document.getElementById("filters");
  if (!bar) { return; }
  bar.hidden = false;
  var statuses = Array.prototype.slice.call(bar.querySelectorAll("input[name=status]"));
  var family = document.getElementById("family");
  var node = document.getElementById("node");
  var shown = document.getElementById("shown");
  var checks = Array.prototype.slice.call(document.querySelectorAll("section.check"));
  var rows = Array.prototype.slice.call(document.querySelectorAll("tr[data-check]"));

  function read() {
    var hash = decodeURIComponent(location.hash.replace(/^#/, ""));
    if (hash.indexOf("=") < 0) { return null; }
    var view = {};
    hash.split("&").forEach(function (pair) {
      var at = pair.indexOf("=");
      if (at > 0) { view[pair.slice(0, at)] = pair.slice(at + 1); }
    });
    return view;
  }

  function restore(view) {
    if (!view) { return; }
    if (view.status !== undefined) {
      var wanted = view.status.split(",");
      statuses.forEach(function (box) { box.checked = wanted.indexOf(box.value) >= 0; });
    }
    if (family && view.family !== undefined) { family.value = view.family; }
    if (node && view.node !== undefined) { node.value = view.node; }
  }

  function current() {
    return {
      status: statuses.filter(function (b) { return b.checked; }).map(function (b) { return b.value; }),
      family: family ? family.value : "",
      node: node ? node.value : ""
    };
  }

  function visible(el, view) {
    if (view.status.indexOf(el.getAttribute("data-status")) < 0) { return false; }
    if (view.family && el.getAttribute("data-family") !== view.family) { return false; }
    if (view.node) {
      var nodes = (el.getAttribute("data-nodes") || "").split(" ");
      if (nodes.indexOf(view.node) < 0 && el.getAttribute("data-cluster") !== "yes") { return false; }
    }
    return true;
  }

  function apply() {
    var view = current();
    var count = 0;
    checks.forEach(function (el) {
      var show = visible(el, view);
      el.classList.toggle("hidden", !show);
      if (show) { count += 1; }
      el.querySelectorAll(".finding[data-node]").forEach(function (f) {
        f.classList.toggle("hidden", !!view.node && f.getAttribute("data-node") !== view.node);
      });
    });
    rows.forEach(function (row) { row.classList.toggle("hidden", !visible(row, view)); });
    document.querySelectorAll("[data-column]").forEach(function (cell) {
      cell.classList.toggle("hidden", !!view.node && cell.getAttribute("data-column") !== view.node);
    });
    shown.textContent = count + " of " + checks.length + " checks shown";
    return view;
  }

  function save(view) {
    var parts = ["status=" + view.status.join(",")];
    if (view.family) { parts.push("family=" + view.family); }
    if (view.node) { parts.push("node=" + view.node); }
    history.replaceState(null, "", "#" + encodeURIComponent(parts.join("&")).replace(/%3D/g, "=").replace(/%26/g, "&").replace(/%2C/g, ","));
  }

  bar.addEventListener("change", function () { save(apply()); });
  window.addEventListener("hashchange", function () { restore(read()); apply(); });
  document.querySelectorAll("button.copy").forEach(function (button) {
    button.hidden = false;
    button.addEventListener("click", function () {
      var text = button.getAttribute("data-command");
      if (navigator.clipboard) {
        navigator.clipboard.writeText(text).then(function () { button.textContent = "copied"; }, function () {});
      }
    });
  });
  restore(read());
  apply();
}());
