// The Controle page: refreshes a report job's progress every 2 seconds, and shows the
// report when it is ready. (The page works without it: its "Ververs" link does the same.)
(function () {
  var box = document.getElementById("report-progress");
  if (!box) { return; }
  function block() { return box.querySelector(".progress-block"); }
  function tick() {
    var current = block();
    if (!current) { return; }
    if (current.getAttribute("data-reload") === "ja") { window.location.reload(); return; }
    if (current.getAttribute("data-finished") === "ja") { return; }
    fetch(box.getAttribute("data-url"), {credentials: "same-origin"})
      .then(function (r) { return r.ok ? r.text() : Promise.reject(r.status); })
      .then(function (html) { box.innerHTML = html; })
      .catch(function () {})
      .then(function () { setTimeout(tick, 2000); });
  }
  setTimeout(tick, 2000);
})();
