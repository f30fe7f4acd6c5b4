// Control: import a state file (read here, sent as JSON: the inspector takes nothing else).
"use strict";

(function () {
  const form = document.getElementById("import-form");
  if (!form) return;
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    const file = form.querySelector("input[type=file]").files[0];
    if (!file) return;
    try {
      const state = JSON.parse(await file.text());
      const answer = await Inspector.send("PUT", form.action, state);
      Inspector.say(answer.message);
    } catch (error) {
      Inspector.say(`Import failed: ${error.message}`, true);
    }
  });
})();
