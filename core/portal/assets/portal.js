// The live part of the page is re-read every few seconds; reveal fetches one password.
// Plain JavaScript: without it the page still reads, and reveal opens the password alone.
"use strict";
(function () {
  const live = document.getElementById("live");
  async function refresh() {
    try {
      const r = await fetch("live", { cache: "no-store" });
      if (r.ok) live.innerHTML = await r.text();
    } catch (e) { /* the next round tries again */ }
  }
  setInterval(refresh, 2000);
  document.querySelectorAll("a.reveal").forEach(function (a) {
    a.addEventListener("click", async function (ev) {
      ev.preventDefault();
      const r = await fetch("reveal?ui=" + encodeURIComponent(a.dataset.ui), { cache: "no-store" });
      const out = document.getElementById("pw-" + a.dataset.ui);
      out.textContent = r.ok ? await r.text() : "(" + r.status + ")";
      out.classList.add("shown");
    });
  });
})();
