// livecheck staff pages: small progressive enhancements, no inline script (CSP).
"use strict";
document.addEventListener("click", async (ev) => {
  const btn = ev.target.closest("[data-copy]");
  if (!btn) return;
  const input = document.getElementById(btn.dataset.copy);
  const status = document.getElementById("copy-status");
  input.select();
  try {
    await navigator.clipboard.writeText(input.value);
    if (status) status.textContent = "Link copied.";
  } catch (e) {
    if (status) status.textContent = "Press Ctrl+C to copy the selected link.";
  }
});
