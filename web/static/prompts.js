// livecheck candidate page: liveness prompts. The server sends one prompt at a
// time over the control channel; the page shows it and acknowledges the moment
// it was drawn ({"t":"shown"}). Timing and verification happen on the server.
"use strict";

(function () {
  const overlay = () => document.getElementById("overlay");
  let timers = [];
  let flashEl = null;

  function clear() {
    timers.forEach(clearTimeout);
    timers = [];
    const o = overlay();
    if (o) { o.hidden = true; o.removeAttribute("data-kind"); o.removeAttribute("data-dir"); }
    if (flashEl) { flashEl.remove(); flashEl = null; }
  }

  // ack is sent after the browser has painted the prompt (two animation frames).
  function ack(ch, id) {
    requestAnimationFrame(() => requestAnimationFrame(() => ch.send(JSON.stringify({ t: "shown", id }))));
  }

  function countdown(ms, el) {
    const end = performance.now() + ms;
    const tick = () => {
      const left = Math.max(0, Math.ceil((end - performance.now()) / 1000));
      el.textContent = left > 0 ? String(left) : "";
      if (left > 0) timers.push(setTimeout(tick, 200));
    };
    tick();
  }

  function show(m, ch) {
    clear();
    const o = overlay();
    if (!o) return;
    document.getElementById("overlay-text").textContent = m.text || "";
    o.setAttribute("aria-label", m.sr_text || m.text || "");
    o.dataset.kind = m.kind || m.t;
    if (m.params && m.params.dir) o.dataset.dir = m.params.dir;
    if (m.params && m.params.count) o.dataset.count = m.params.count;
    o.hidden = false;
    const count = document.getElementById("overlay-count");
    count.textContent = "";
    if (m.t === "digits") {
      count.textContent = m.digits;
      o.dataset.digits = m.digits;
    } else if (m.deadline_ms) {
      countdown(m.deadline_ms, count);
    }
    ack(ch, m.id);
    const total = m.deadline_ms || 6000;
    timers.push(setTimeout(clear, total + 1500));
  }

  function flash(m, ch) {
    clear();
    flashEl = document.createElement("div");
    flashEl.className = "flashscreen";
    flashEl.id = "flashscreen";
    flashEl.setAttribute("role", "alert");
    flashEl.setAttribute("aria-label", m.sr_text || "The screen changes colour; keep looking at it.");
    document.body.appendChild(flashEl);
    const colors = m.colors || [];
    const step = m.step_ms || 300;
    if (m.fade) flashEl.style.transition = "background-color " + step + "ms linear";
    flashEl.style.backgroundColor = colors[0] || "#ffffff";
    ack(ch, m.id);
    colors.slice(1).forEach((c, i) => timers.push(setTimeout(() => { if (flashEl) flashEl.style.backgroundColor = c; }, step * (i + 1))));
    timers.push(setTimeout(clear, step * colors.length));
  }

  window.LivecheckPrompts = {
    handle(m, ch) {
      if (m.t === "challenge" || m.t === "digits") show(m, ch);
      else if (m.t === "flash") flash(m, ch);
      else if (m.t === "result") clear();
    },
  };
})();
