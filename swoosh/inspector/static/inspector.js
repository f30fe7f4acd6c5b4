// swoosh inspector: what every page shares. Forms marked data-json send their fields as JSON (the
// inspector refuses anything else that changes state), then say what happened in the status line.
"use strict";

const Inspector = {
  say(text, failed) {
    const line = document.getElementById("action-status");
    if (!line) return;
    line.textContent = text;
    line.classList.toggle("failed", Boolean(failed));
  },

  async send(method, url, body) {
    const response = await fetch(url, {
      method,
      headers: { "Content-Type": "application/json", Accept: "application/json" },
      body: body === undefined ? undefined : JSON.stringify(body),
      credentials: "same-origin",
    });
    let answer = {};
    try { answer = await response.json(); } catch (_) { answer = {}; }
    if (!response.ok) throw new Error(answer.error || `${response.status} ${response.statusText}`);
    return answer;
  },

  fields(form) {
    const out = {};
    for (const [name, value] of new FormData(form).entries()) {
      if (typeof value === "string" && value.trim() !== "") out[name] = value.trim();
    }
    return out;
  },

  text(tag, value, className) {
    const node = document.createElement(tag);
    node.textContent = value;
    if (className) node.className = className;
    return node;
  },
};

document.addEventListener("submit", async (event) => {
  const form = event.target;
  if (!(form instanceof HTMLFormElement) || !form.dataset.json) return;
  event.preventDefault();
  const button = form.querySelector("button[type=submit]");
  if (form.dataset.confirm && !window.confirm(form.dataset.confirm)) return;
  if (button) button.disabled = true;
  try {
    const answer = await Inspector.send(form.dataset.method || "POST", form.action, Inspector.fields(form));
    Inspector.say(answer.message || form.dataset.done || "Done.");
    if (form.dataset.reload !== "no") window.setTimeout(() => window.location.reload(), 600);
  } catch (error) {
    Inspector.say(error.message, true);
  } finally {
    if (button) button.disabled = false;
  }
});
