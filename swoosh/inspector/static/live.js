// Live: new messages arrive over server-sent events and are put on top; the table keeps max-rows.
"use strict";

(function () {
  const body = document.getElementById("live-rows");
  const state = document.getElementById("live-state");
  if (!body || !body.dataset.stream) return;
  const maxRows = Number(body.dataset.maxRows || 200);
  const detail = body.dataset.detail.replace(/0$/, "");
  const url = new URL(body.dataset.stream, window.location.href);
  url.searchParams.set("after", body.dataset.after || "0");

  function row(r) {
    const tr = document.createElement("tr");
    tr.dataset.seq = r.seq;
    tr.className = "fresh";
    const first = document.createElement("td");
    const link = document.createElement("a");
    link.href = detail + r.seq;
    const time = Inspector.text("time", r.time.slice(0, 10) + " " + r.time.slice(11, 23));
    time.setAttribute("datetime", r.time);
    link.appendChild(time);
    first.appendChild(link);
    tr.appendChild(first);
    const status = document.createElement("td");
    status.appendChild(Inspector.text("span", r.status, "badge " + r.status));
    tr.appendChild(status);
    for (const key of ["type", "event", "user", "source", "reason"]) tr.appendChild(Inspector.text("td", r[key]));
    return tr;
  }

  const source = new EventSource(url.toString());
  source.addEventListener("open", () => { state.textContent = "live"; });
  source.addEventListener("error", () => { state.textContent = "reconnecting…"; });
  source.addEventListener("trouble", (event) => { state.textContent = JSON.parse(event.data).error; });
  source.addEventListener("event", (event) => {
    const r = JSON.parse(event.data);
    if (body.querySelector(`tr[data-seq="${r.seq}"]`)) return;
    body.insertBefore(row(r), body.firstChild);
    while (body.rows.length > maxRows) body.deleteRow(body.rows.length - 1);
    const empty = document.getElementById("live-empty");
    if (empty) empty.remove();
  });
  window.addEventListener("pagehide", () => source.close());
})();
