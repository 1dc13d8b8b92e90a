// Refreshes the backfill's progress block every 3 seconds until it is finished.
// (A few lines of fetch instead of a framework; the page works without it too.)
(function () {
  var box = document.getElementById("backfill-progress");
  if (!box) { return; }
  function finished() {
    var block = box.querySelector(".progress-block");
    return !block || block.getAttribute("data-finished") === "ja";
  }
  function tick() {
    if (finished()) { return; }
    fetch(box.getAttribute("data-url"), {credentials: "same-origin"})
      .then(function (r) { return r.ok ? r.text() : Promise.reject(r.status); })
      .then(function (html) { box.innerHTML = html; })
      .catch(function () {})
      .then(function () { if (!finished()) { setTimeout(tick, 3000); } });
  }
  setTimeout(tick, 3000);
})();
