// Bridge: the counts and charts are refreshed every few seconds; the tables change only on reload.
"use strict";

(function () {
  const panel = document.getElementById("bridge-now");
  if (!panel) return;
  async function refresh() {
    if (document.hidden) return;
    try {
      const response = await fetch(panel.dataset.refresh, { headers: { Accept: "text/html" } });
      if (response.ok) panel.innerHTML = await response.text();
    } catch (_) {
      // the stack stopped; the next round tries again
    }
  }
  window.setInterval(refresh, 3000);
})();
