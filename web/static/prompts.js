// livecheck candidate page: liveness prompts. The server sends one prompt at a
// time over the control channel; the page shows it and acknowledges the moment
// it was drawn ({"t":"shown"}). Timing and verification happen on the server.
//
// Flashes: the screen's colour never changes more than 3 times in any second.
// The server plans steps longer than a third of a second; the page also keeps
// every change at least MIN_GAP_MS after the previous one, so that a late
// timer cannot bunch two changes together. With the no-flash choice (fade) the
// colours cross-fade, and the colour screen itself fades in and out.
"use strict";

(function () {
  const MIN_GAP_MS = 340; // > 1000 / 3
  const FADE_EDGE_MS = 600; // fade-in and fade-out of the colour screen (no-flash choice)
  const overlay = () => document.getElementById("overlay");
  let timers = [];
  let flashEl = null;

  function later(fn, ms) { timers.push(setTimeout(fn, Math.max(0, ms))); }

  function clear() {
    timers.forEach(clearTimeout);
    timers = [];
    const o = overlay();
    if (o) { o.hidden = true; o.removeAttribute("data-kind"); o.removeAttribute("data-dir"); }
    const stage = document.getElementById("stage");
    if (stage) stage.classList.remove("prompting");
    if (flashEl) { flashEl.remove(); flashEl = null; }
  }

  // ack is sent after the browser has painted the prompt (two animation frames).
  function ack(ch, id) {
    requestAnimationFrame(() => requestAnimationFrame(() => ch.send(JSON.stringify({ t: "shown", id }))));
  }

  function countdown(ms, el, label) {
    const end = performance.now() + ms;
    label.hidden = false;
    const tick = () => {
      const left = Math.max(0, Math.ceil((end - performance.now()) / 1000));
      el.textContent = left > 0 ? String(left) : "";
      label.hidden = left <= 0;
      label.textContent = left === 1 ? "second left" : "seconds left";
      if (left > 0) later(tick, 200);
    };
    tick();
  }

  // show draws a motion or reading prompt as a band over the interviewer's
  // video; the candidate's own picture grows beside it (never dimmed), so they
  // can watch themselves while they turn or cover their face.
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
    const stage = document.getElementById("stage");
    if (stage) stage.classList.add("prompting");
    const count = document.getElementById("overlay-count");
    const label = document.getElementById("overlay-count-label");
    count.textContent = "";
    label.hidden = true;
    if (m.t === "digits") {
      count.textContent = m.digits;
      o.dataset.digits = m.digits;
    } else if (m.deadline_ms) {
      countdown(m.deadline_ms, count, label);
    }
    ack(ch, m.id);
    later(clear, (m.deadline_ms || 6000) + 1500);
  }

  function flash(m, ch) {
    clear();
    const colors = m.colors || [];
    const step = Math.max(m.step_ms || 1000, MIN_GAP_MS);
    const gap = Math.min(step, MIN_GAP_MS);
    flashEl = document.createElement("div");
    flashEl.className = "flashscreen";
    flashEl.id = "flashscreen";
    flashEl.setAttribute("role", "alert");
    flashEl.setAttribute("aria-label", m.sr_text || "The screen changes colour; keep looking at it.");
    const text = document.createElement("p");
    text.className = "flash-text";
    text.textContent = m.text || "Keep facing the screen.";
    flashEl.appendChild(text);
    document.body.appendChild(flashEl);
    const el = flashEl;
    let last = 0;
    // change shows colour i, or ends the prompt after the last one, never
    // sooner than `gap` after the previous change.
    const change = (i, due) => {
      if (flashEl !== el) return;
      const now = performance.now();
      const at = Math.max(due, last + gap);
      if (now < at) { later(() => change(i, due), at - now); return; }
      last = now;
      if (i < colors.length) {
        el.style.backgroundColor = colors[i];
        later(() => change(i + 1, t0 + (i + 1) * step), t0 + (i + 1) * step - performance.now());
        return;
      }
      if (!m.fade) { clear(); return; }
      el.style.transition = "opacity " + FADE_EDGE_MS + "ms linear"; // fades out, then goes
      el.style.opacity = "0";
      later(clear, FADE_EDGE_MS);
    };
    let t0 = 0;
    const begin = () => {
      if (flashEl !== el) return;
      t0 = performance.now();
      change(0, t0); // the first colour at once
      if (m.fade) { // then every change cross-fades over a whole step
        void getComputedStyle(el).backgroundColor;
        el.style.transition = "background-color " + step + "ms linear";
      }
      ack(ch, m.id);
    };
    if (!m.fade) { begin(); return; }
    // No flashing: a layer of the first colour fades in over the page first; the
    // colour screen takes over, and the prompt counts from there.
    const intro = document.createElement("div");
    intro.className = "flash-intro";
    intro.style.backgroundColor = colors[0] || "#ffffff";
    el.appendChild(intro);
    requestAnimationFrame(() => requestAnimationFrame(() => intro.classList.add("on")));
    later(() => { begin(); intro.remove(); }, FADE_EDGE_MS);
  }

  window.LivecheckPrompts = {
    handle(m, ch) {
      if (m.t === "challenge" || m.t === "digits") show(m, ch);
      else if (m.t === "flash") flash(m, ch);
      else if (m.t === "result") clear();
    },
  };
})();
