// The console's few lines of script: SLA badges counting down, keyboard keys, htmx's CSRF header.
// The page works without it (every action is a plain form); this only makes it livelier.
(function () {
  "use strict";
  var body = document.body;
  // The server's clock (a test's FakeClock, or the daemon's): count from it, not the browser's.
  var skew = Date.parse(body.dataset.now || "") - Date.now();
  if (isNaN(skew)) skew = 0;

  function span(ms) {
    var s = Math.floor(Math.abs(ms) / 1000);
    var d = Math.floor(s / 86400), h = Math.floor((s % 86400) / 3600), m = Math.floor((s % 3600) / 60), sec = s % 60;
    if (d) return d + "天" + h + "小时";
    if (h) return h + "小时" + m + "分" + sec + "秒";
    if (m) return m + "分" + sec + "秒";
    return sec + "秒";
  }

  function tick() {
    var now = Date.now() + skew;
    document.querySelectorAll(".badge[data-due]").forEach(function (el) {
      var due = Date.parse(el.dataset.due);
      if (isNaN(due)) return;
      var left = due - now;
      el.textContent = left > 0 ? "剩 " + span(left) : "超时 " + span(left);
      el.classList.remove("ok", "soon", "late");
      el.classList.add(left <= 0 ? "late" : left <= 7200000 ? "soon" : "ok");
    });
  }
  tick();
  setInterval(tick, 1000);

  document.addEventListener("htmx:configRequest", function (e) {
    if (body.dataset.csrf) e.detail.headers["X-CSRF-Token"] = body.dataset.csrf;
  });
  document.addEventListener("htmx:afterSwap", tick);

  var current = -1;
  function rows() { return Array.prototype.slice.call(document.querySelectorAll("tr.row")); }
  function select(i) {
    var all = rows();
    if (!all.length) return;
    current = Math.max(0, Math.min(i, all.length - 1));
    all.forEach(function (r, n) { r.classList.toggle("current", n === current); });
    all[current].scrollIntoView({ block: "nearest" });
  }
  document.addEventListener("keydown", function (e) {
    var t = e.target;
    if (t && (t.tagName === "INPUT" || t.tagName === "TEXTAREA" || t.tagName === "SELECT")) {
      if (e.key === "Escape") t.blur();
      return;
    }
    if (e.ctrlKey || e.metaKey || e.altKey) return;
    var help = document.getElementById("help");
    if (e.key === "/") { var q = document.getElementById("q"); if (q) { e.preventDefault(); q.focus(); } }
    else if (e.key === "j") select(current + 1);
    else if (e.key === "k") select(current - 1);
    else if (e.key === "o" || e.key === "Enter") {
      var all = rows();
      if (current >= 0 && all[current]) window.location = all[current].dataset.href;
    } else if (e.key === "r") {
      var text = document.getElementById("reply-text");
      if (text) { e.preventDefault(); text.scrollIntoView({ block: "center" }); text.focus(); }
    } else if (e.key === "?") { if (help) help.hidden = !help.hidden; }
    else if (e.key === "Escape" && help) help.hidden = true;
  });
  document.addEventListener("click", function (e) {
    var row = e.target.closest && e.target.closest("tr.row");
    if (row && e.target.tagName !== "INPUT" && e.target.tagName !== "A") window.location = row.dataset.href;
  });
})();
