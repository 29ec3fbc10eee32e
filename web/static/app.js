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

// Times: the server writes UTC into <time datetime>; show them in the viewer's
// own time zone, with the UTC time kept as the tooltip.
function localTimes(root) {
  const long = { weekday: "short", day: "numeric", month: "short", year: "numeric", hour: "2-digit", minute: "2-digit", timeZoneName: "short" };
  const short = { year: "numeric", month: "2-digit", day: "2-digit", hour: "2-digit", minute: "2-digit", second: "2-digit", timeZoneName: "short" };
  for (const el of (root || document).querySelectorAll("time[datetime]")) {
    if (el.dataset.local) continue;
    const d = new Date(el.getAttribute("datetime"));
    if (isNaN(d)) continue;
    if (!el.title) el.title = el.textContent.trim();
    el.textContent = d.toLocaleString(undefined, el.dataset.style === "long" ? long : short);
    el.dataset.local = "1";
  }
}
window.lcLocalTimes = localTimes;

// The scheduling form: the recruiter types their own local time; the browser
// converts it to UTC on submit (scheduled_utc), which the server prefers.
function localSchedule() {
  const input = document.getElementById("scheduled_at");
  const utc = document.getElementById("scheduled_utc");
  if (!input || !utc) return;
  const pad = (n) => String(n).padStart(2, "0");
  if (input.dataset.utc === "1" && input.value) {
    const d = new Date(input.value + ":00Z");
    if (!isNaN(d)) input.value = d.getFullYear() + "-" + pad(d.getMonth() + 1) + "-" + pad(d.getDate()) + "T" + pad(d.getHours()) + ":" + pad(d.getMinutes());
  }
  const hint = document.getElementById("tz-hint");
  const zone = Intl.DateTimeFormat().resolvedOptions().timeZone || "";
  if (hint) hint.textContent = "In your time zone" + (zone ? " (" + zone + ")" : "") + ". The candidate sees it in theirs.";
  input.form.addEventListener("submit", () => {
    const d = new Date(input.value);
    utc.value = isNaN(d) ? "" : d.toISOString();
  });
}

document.addEventListener("DOMContentLoaded", () => {
  localTimes(document);
  localSchedule();
});
