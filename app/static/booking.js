// The booking page while a worker is at it (after "Opnieuw proberen"): asks every few
// seconds where the booking stands and reloads the page once that changes, so the new
// state, rows and attempts show without pressing F5. The page works without it too.
(function () {
  var box = document.getElementById("booking-status");
  if (!box || box.getAttribute("data-waiting") !== "ja") { return; }
  var url = box.getAttribute("data-url");
  function key(s) { return [s.state, s.payment_state, s.payments.join(",")].join("|"); }
  var first = key(JSON.parse(box.getAttribute("data-status")));
  var delay = 2000;
  function tick() {
    fetch(url, {credentials: "same-origin", headers: {"Accept": "application/json"}})
      .then(function (r) { return r.ok ? r.json() : Promise.reject(r.status); })
      .then(function (status) {
        if (key(status) !== first) { window.location.reload(); return; }
        delay = Math.min(delay * 1.5, 30000);
        setTimeout(tick, delay);
      })
      .catch(function () { setTimeout(tick, 30000); });
  }
  setTimeout(tick, delay);
})();
