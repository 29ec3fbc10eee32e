// livecheck candidate pages: device check and the call. No test hooks: the page
// behaves the same for every browser.
"use strict";

const MEDIA_ERRORS = {
  NotAllowedError: "Permission to use the camera or microphone was denied. Allow it from the icon in the address bar, then reload this page.",
  SecurityError: "Permission to use the camera or microphone was denied. Allow it from the icon in the address bar, then reload this page.",
  NotFoundError: "No camera or microphone was found. Connect one and reload this page.",
  OverconstrainedError: "The chosen camera or microphone is not available. Choose another one.",
  NotReadableError: "Your camera or microphone is in use by another application. Close it (video call apps, camera apps), then reload.",
  AbortError: "The camera could not be started. Close other applications that use it and reload.",
};

function mediaErrorText(err) {
  return MEDIA_ERRORS[err && err.name] || "The camera or microphone could not be started (" + (err && err.name || "unknown error") + ").";
}

function constraints(camId, micId) {
  const video = { width: { ideal: 640 }, height: { ideal: 480 }, frameRate: { ideal: 15, max: 15 } };
  const audio = { echoCancellation: false, noiseSuppression: false, autoGainControl: false };
  if (camId) video.deviceId = { exact: camId };
  if (micId) audio.deviceId = { exact: micId };
  return { video, audio };
}

async function deviceCheck(root) {
  const status = document.getElementById("check-status");
  const preview = document.getElementById("preview");
  const camSel = document.getElementById("camera");
  const micSel = document.getElementById("microphone");
  const join = document.getElementById("join");
  const meter = document.getElementById("level");
  let stream = null, audioCtx = null;

  async function start() {
    if (stream) stream.getTracks().forEach((t) => t.stop());
    join.disabled = true;
    try {
      stream = await navigator.mediaDevices.getUserMedia(constraints(camSel.value, micSel.value));
    } catch (err) {
      status.textContent = mediaErrorText(err);
      status.className = "error";
      return;
    }
    preview.srcObject = stream;
    await fillDevices();
    sessionStorage.setItem("lc.camera", stream.getVideoTracks()[0].getSettings().deviceId || "");
    sessionStorage.setItem("lc.microphone", stream.getAudioTracks()[0].getSettings().deviceId || "");
    status.textContent = "Camera and microphone work. You can join.";
    status.className = "hint";
    join.disabled = false;
    try {
      audioCtx = audioCtx || new AudioContext();
      const an = audioCtx.createAnalyser();
      audioCtx.createMediaStreamSource(stream).connect(an);
      const buf = new Float32Array(an.fftSize);
      const tick = () => {
        an.getFloatTimeDomainData(buf);
        let s = 0; for (const v of buf) s += v * v;
        meter.value = Math.min(1, Math.sqrt(s / buf.length) * 4);
        requestAnimationFrame(tick);
      };
      tick();
    } catch (e) { /* the level meter is optional */ }
  }

  async function fillDevices() {
    const devs = await navigator.mediaDevices.enumerateDevices();
    for (const [sel, kind] of [[camSel, "videoinput"], [micSel, "audioinput"]]) {
      const cur = sel.value;
      sel.innerHTML = "";
      devs.filter((d) => d.kind === kind).forEach((d, i) => {
        const o = document.createElement("option");
        o.value = d.deviceId; o.textContent = d.label || (kind === "videoinput" ? "Camera " : "Microphone ") + (i + 1);
        sel.appendChild(o);
      });
      if (cur) sel.value = cur;
    }
    const vt = stream && stream.getVideoTracks()[0], at = stream && stream.getAudioTracks()[0];
    if (vt && vt.getSettings().deviceId) camSel.value = vt.getSettings().deviceId;
    if (at && at.getSettings().deviceId) micSel.value = at.getSettings().deviceId;
  }

  camSel.addEventListener("change", start);
  micSel.addEventListener("change", start);
  join.addEventListener("click", () => {
    if (stream) stream.getTracks().forEach((t) => t.stop());
    location.href = root.dataset.call;
  });
  if (!navigator.mediaDevices || !navigator.mediaDevices.getUserMedia) {
    status.textContent = "This browser cannot use a camera here. Use a current Chrome, Edge or Firefox.";
    status.className = "error";
    return;
  }
  start();
}

function environmentReport(stream) {
  return navigator.mediaDevices.enumerateDevices().then((devs) => {
    const vt = stream.getVideoTracks()[0], at = stream.getAudioTracks()[0];
    const vs = vt ? vt.getSettings() : {}, as = at ? at.getSettings() : {};
    return {
      t: "env",
      env: {
        tz: Intl.DateTimeFormat().resolvedOptions().timeZone || "",
        tz_offset_min: -new Date().getTimezoneOffset(),
        languages: (navigator.languages || []).slice(0, 16),
        screen_w: screen.width, screen_h: screen.height, dpr: window.devicePixelRatio || 1,
        devices: devs.slice(0, 32).map((d) => ({ kind: d.kind, label: d.label })),
        webdriver: !!navigator.webdriver,
        platform: (navigator.platform || "").slice(0, 64),
        hw_concurrency: navigator.hardwareConcurrency || 0,
        video: { label: vt ? vt.label : "", width: vs.width || 0, height: vs.height || 0, frame_rate: vs.frameRate || 0 },
        audio: { label: at ? at.label : "", echo_cancellation: as.echoCancellation, noise_suppression: as.noiseSuppression, auto_gain_control: as.autoGainControl },
      },
    };
  });
}

async function candidateCall(root) {
  const $ = (id) => document.getElementById(id);
  const status = $("call-status");
  const remote = $("remote");
  const self = $("self");
  const timer = $("call-timer");
  const btn = { mute: $("mute"), leave: $("leave"), rejoin: $("rejoin") };
  let stream;
  try {
    stream = await navigator.mediaDevices.getUserMedia(constraints(sessionStorage.getItem("lc.camera"), sessionStorage.getItem("lc.microphone")));
  } catch (err) {
    try { stream = await navigator.mediaDevices.getUserMedia(constraints("", "")); } catch (err2) {
      status.textContent = mediaErrorText(err2);
      status.className = "status s-failed";
      return;
    }
  }
  self.srcObject = stream;
  const remoteStream = new MediaStream();
  let presence = { host: "absent" }, hostSeen = false, own = "connecting";
  let ended = false, left = false, reconnecting = false, moving = false, timerBase = null;

  function say(text, kind) {
    status.textContent = text;
    status.className = "status" + (kind ? " s-" + kind : "");
  }
  // render says what is true now: our own connection first, then the interviewer's.
  function render() {
    if (ended || left || call.closed) return;
    if (moving) say("The interview server changed. Reconnecting… the interview goes on where it was.", "review");
    else if (own === "lost") say("Connection lost. Reconnecting…", "review");
    else if (own !== "connected") say("Connecting…", "");
    else if (presence.host === "connected") say("Connected. The interviewer can see and hear you.", "live");
    else if (presence.host === "connecting") say("Connected. The interviewer is joining…", "review");
    else if (hostSeen) say("Connected. The interviewer left the call; please wait, they may come back.", "review");
    else say("Connected. The interviewer has not joined yet: please wait.", "review");
  }
  setInterval(() => {
    if (timerBase !== null && !ended && !left) {
      timer.hidden = false;
      timer.textContent = LiveCall.clock(performance.now() - timerBase);
    }
  }, 500);
  function stopMedia() {
    stream.getTracks().forEach((t) => t.stop());
    btn.mute.disabled = true;
    btn.leave.disabled = true;
    timer.hidden = true;
    for (const v of document.querySelectorAll("#stage video")) { v.srcObject = null; v.hidden = true; }
    const ph = $("remote-placeholder");
    ph.textContent = status.textContent; // no frozen last frame: the stage says why
    ph.hidden = false;
    $("flash-note").hidden = true;
  }

  const call = new LiveCall({
    ws: root.dataset.ws,
    route: root.dataset.route,
    stream,
    scalabilityMode: "L1T3", // temporal layers: the server decodes fewer frames between challenges
    onTrack: (ev) => {
      remoteStream.addTrack(ev.track);
      // Attached only once media exists: an empty stream keeps the page loading.
      if (!remote.srcObject) remote.srcObject = remoteStream;
      $("remote-placeholder").hidden = true;
      remote.play().catch(() => {});
    },
    onControl: (ch) => {
      ch.onopen = async () => ch.send(JSON.stringify(await environmentReport(stream)));
      ch.onmessage = (ev) => {
        let m; try { m = JSON.parse(ev.data); } catch (e) { return; }
        if (m.t === "ping") ch.send(JSON.stringify({ t: "pong", id: m.id }));
        if (window.LivecheckPrompts) window.LivecheckPrompts.handle(m, ch);
      };
    },
    onMessage: (m) => {
      const d = m.data || {};
      if (m.t === "busy") {
        call.closed = true;
        say("This interview is open in another browser. Close it there, then reload this page.", "failed");
        stopMedia();
      }
      if (m.t === "ended") {
        call.closed = true; // no reconnect after the end
        ended = true;
        say("The interview has ended. Thank you! You can close this page.", "completed");
        stopMedia();
        btn.rejoin.hidden = true;
      }
      if (m.t === "moved") {
        // The server lost the interview (fenced off its database or taken over):
        // the route now names its new server; reconnect there.
        moving = true;
        call.state("disconnected");
      }
      if (m.t === "presence") {
        presence = d;
        hostSeen = hostSeen || d.host === "connected";
        if (d.candidate_seen) timerBase = performance.now() - d.elapsed_ms;
        render();
      }
      if (m.t === "peer" && d.event) status.dataset.peer = d.event;
      if (m.t === "error") console.warn("livecheck:", m.error);
    },
    onState: (s) => {
      if (call.closed) return;
      if (s === "connected") own = "connected";
      if (s === "disconnected" || s === "failed") own = "lost";
      render();
      if ((s === "disconnected" || s === "failed") && !reconnecting) {
        // Wait until the server answers again (the network may be down), then rejoin.
        reconnecting = true;
        const retry = () => fetch("/healthz", { cache: "no-store" })
          .then((r) => { if (r.ok) location.reload(); else setTimeout(retry, 2000); })
          .catch(() => setTimeout(retry, 2000));
        setTimeout(retry, 2000);
      }
    },
  });
  call.start();
  window.lcCall = call; // the connection object, for support in the browser console
  btn.leave.addEventListener("click", () => {
    left = true;
    call.leave();
    say("You left the interview. You can rejoin while the interview is open.", "interrupted");
    stopMedia();
    btn.rejoin.hidden = false;
  });
  btn.rejoin.addEventListener("click", () => location.reload());
  btn.mute.addEventListener("click", () => LiveCall.toggle(btn.mute, stream.getAudioTracks(), "Mute", "Unmute"));
}

document.addEventListener("DOMContentLoaded", () => {
  const check = document.getElementById("device-check");
  if (check) deviceCheck(check);
  const call = document.getElementById("candidate-call");
  if (call) candidateCall(call);
});
