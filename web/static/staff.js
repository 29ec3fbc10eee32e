// livecheck recruiter / observer call page. Who is connected comes from the
// server ("presence"), never from guesses; every "challenge now" is answered.
"use strict";

// Plain-language readings of the live figures (technical values stay in the
// collapsed details).
function faceText(share) {
  if (share >= 0.8) return "Yes";
  if (share >= 0.3) return "Part of the time";
  return "No face visible";
}
function audioText(db) {
  if (db > -35) return "Speaking";
  if (db > -55) return "Quiet";
  return "Silent";
}
function rttText(ms) {
  if (!ms) return "–";
  if (ms < 150) return "Good";
  if (ms < 400) return "Fair (some delay)";
  return "Slow (noticeable delay)";
}

async function staffCall(root) {
  const mode = root.dataset.mode;
  const host = mode === "host";
  const $ = (id) => document.getElementById(id);
  const status = $("call-status");
  const remote = $("remote");
  const timer = $("call-timer");
  const btn = { mute: $("mute"), camera: $("camera-toggle"), challenge: $("challenge-now"), end: $("end"), rejoin: $("rejoin") };
  const remoteStream = new MediaStream();
  const hostStream = new MediaStream();
  let stream = null;
  let presence = { candidate: "absent", host: "absent", candidate_seen: false };
  let chState = null;
  let ended = false, own = "connecting", requesting = false, refusal = "", moved = false;
  let timerBase = null, countdownEnd = null, runningID = null;

  function setStatus(text, kind) {
    status.textContent = text;
    status.className = "status" + (kind ? " s-" + kind : "");
  }

  function render() {
    if (ended) return;
    const c = presence.candidate;
    if (moved) setStatus("The interview moved to another server. Use Rejoin to follow it.", "review");
    else if (own === "failed") setStatus("Your connection failed. Use Rejoin.", "failed");
    else if (c === "connected") setStatus("Candidate connected", "live");
    else if (c === "reconnecting") setStatus("Candidate's connection lost: waiting for it to come back", "review");
    else if (c === "connecting") setStatus("The candidate is joining…", "review");
    else if (presence.candidate_seen) setStatus("The candidate left. They can rejoin with their link.", "interrupted");
    else setStatus("Waiting for the candidate to join…", "");
    renderChallenge();
  }

  function renderChallenge() {
    const s = chState || { enabled: true, remaining: 0 };
    const running = s.running;
    $("challenge-running").hidden = !running;
    if (running) {
      $("challenge-text").textContent = running.text;
    }
    const locked = $("challenge-locked");
    locked.hidden = !s.locked;
    if (s.locked) locked.textContent = "Challenges are locked after " + s.failed + " failed challenges: no more challenges in this session, and it goes to security review.";
    let why = "";
    if (ended) why = "The interview has ended.";
    else if (!s.enabled) why = "Challenges are switched off on this server.";
    else if (s.locked) why = "";
    else if (running) why = "Wait for the running challenge's result.";
    else if (requesting) why = "Starting a challenge…";
    else if (presence.candidate !== "connected") why = "Challenges are available while the candidate is connected.";
    $("challenge-reason").textContent = ended ? "" : refusal || why;
    const rem = s.enabled && !ended ? s.remaining + (s.remaining === 1 ? " planned challenge" : " planned challenges") + " left in this session" +
      (s.no_flash ? " (the candidate chose no flashing: colour challenges fade slowly)" : "") + "." : "";
    $("challenge-remaining").textContent = rem;
    if (btn.challenge) btn.challenge.disabled = ended || !s.enabled || s.locked || !!running || requesting || presence.candidate !== "connected";
  }

  function tick() {
    if (timerBase !== null && !ended) {
      timer.hidden = false;
      timer.textContent = LiveCall.clock(performance.now() - timerBase);
    }
    if (countdownEnd !== null && chState && chState.running) {
      $("challenge-count").textContent = String(Math.max(0, Math.ceil((countdownEnd - performance.now()) / 1000)));
    }
  }
  setInterval(tick, 250);

  function endCall(text) {
    ended = true;
    call.closed = true;
    if (stream) stream.getTracks().forEach((t) => t.stop());
    for (const b of [btn.mute, btn.camera, btn.challenge, btn.end]) if (b) b.disabled = true;
    setStatus(text, "completed");
    timer.hidden = true;
    // No frozen last frame: the stage says the call is over.
    for (const v of document.querySelectorAll("#stage video")) { v.srcObject = null; v.hidden = true; }
    const ph = $("remote-placeholder");
    ph.textContent = "The interview has ended. Its results appear on the interview page.";
    ph.hidden = false;
    renderChallenge();
  }

  if (host) {
    try {
      stream = await navigator.mediaDevices.getUserMedia({ video: { width: { ideal: 640 }, height: { ideal: 480 } }, audio: true });
      $("self").srcObject = stream;
    } catch (err) {
      setStatus("Your camera or microphone could not be started (" + err.name + "). The candidate will not see you.", "failed");
      if (btn.mute) btn.mute.disabled = true;
      if (btn.camera) btn.camera.disabled = true;
    }
  }

  const call = new LiveCall({
    ws: root.dataset.ws,
    route: root.dataset.route,
    stream,
    onTrack: (ev) => {
      const owner = ev.streams[0] ? ev.streams[0].id : "candidate";
      if (owner === "host") {
        hostStream.addTrack(ev.track);
        const h = $("host");
        if (h && !h.srcObject) h.srcObject = hostStream;
      } else {
        remoteStream.addTrack(ev.track);
        // Attached only once media exists: an empty stream keeps the page loading.
        if (!remote.srcObject) remote.srcObject = remoteStream;
        $("remote-placeholder").hidden = true;
        remote.play().catch(() => {});
      }
    },
    onMessage: (m) => {
      const d = m.data || {};
      switch (m.t) {
        case "presence":
          // A refusal about the candidate's connection is over when that connection changes
          // (not when only the recruiter's own connection does).
          if (d.candidate !== presence.candidate && d.candidate !== "connected") refusal = "";
          presence = d;
          if (d.elapsed_ms !== undefined && d.candidate_seen) timerBase = performance.now() - d.elapsed_ms;
          render();
          break;
        case "challenge_state":
          chState = d;
          requesting = false;
          if (d.running && d.running.id !== runningID) { // a new challenge: its countdown, and no old refusal
            countdownEnd = performance.now() + d.running.deadline_ms;
            refusal = "";
          }
          if (!d.running) {
            countdownEnd = null;
            if (runningID) refusal = ""; // the challenge that made a request wait is over
          }
          runningID = d.running ? d.running.id : null;
          renderChallenge();
          tick();
          break;
        case "challenge_refused":
          requesting = false;
          refusal = d.reason || "The challenge was not started.";
          renderChallenge();
          break;
        case "signals":
          $("sig-face").textContent = faceText(d.face_present);
          $("sig-audio").textContent = audioText(d.audio_db);
          $("sig-rtt").textContent = rttText(d.rtt_ms);
          $("sig-face-pct").textContent = Math.round(d.face_present * 100) + " %";
          $("sig-audio-db").textContent = d.audio_db.toFixed(1) + " dBFS";
          $("sig-rtt-ms").textContent = d.rtt_ms ? d.rtt_ms.toFixed(0) + " ms" : "–";
          $("sig-frames").textContent = d.frames_decoded + " / " + d.frames_analysed + " / " + d.frames_dropped;
          break;
        case "challenge_issued":
        case "challenge_result":
          challengeRow(m.t, d);
          break;
        case "ended":
          endCall("The interview has ended.");
          break;
        case "moved":
          moved = true;
          if (btn.rejoin) btn.rejoin.hidden = false;
          render();
          break;
        case "error":
          console.warn("livecheck:", m.error);
          break;
      }
    },
    onState: (s) => {
      if (ended) return;
      if (s === "connected") own = "connected";
      if (s === "failed" || s === "disconnected") {
        own = "failed";
        if (btn.rejoin) btn.rejoin.hidden = false;
      }
      render();
    },
  });
  call.start();
  window.lcCall = call; // the connection panel below and the browser console read it

  function challengeRow(type, d) {
    const body = document.querySelector("#challenges tbody");
    $("challenges-empty").hidden = true;
    let row = document.getElementById("ch-" + d.id);
    if (!row) {
      row = document.createElement("tr");
      row.id = "ch-" + d.id;
      for (let i = 0; i < 3; i++) row.appendChild(document.createElement("td"));
      row.cells[0].textContent = d.kind.replace("_", " ");
      row.cells[1].textContent = "running…";
      body.appendChild(row);
    }
    if (type === "challenge_result") {
      row.cells[1].textContent = "";
      const badge = document.createElement("span");
      badge.className = "status s-" + d.outcome;
      badge.textContent = d.outcome;
      row.cells[1].appendChild(badge);
      if (d.reason) row.cells[1].appendChild(document.createTextNode(" " + d.reason));
      row.dataset.outcome = d.outcome;
      row.cells[2].textContent = d.latency_ms ? d.latency_ms + " ms" : "–";
    }
  }

  setInterval(async () => {
    if (ended) return;
    const s = await call.stats();
    $("sig-conn").textContent = s.videoFramesDecoded + " frames decoded, " + s.audioPackets + " audio packets" + (s.rttMs !== null ? ", RTT " + s.rttMs.toFixed(0) + " ms" : "");
  }, 1000);

  if (btn.end) btn.end.addEventListener("click", () => {
    if (!confirm("End the interview for everyone?")) return;
    call.send({ t: "end" });
    endCall("Ending the interview…");
  });
  if (btn.challenge) btn.challenge.addEventListener("click", () => {
    requesting = true;
    refusal = "";
    renderChallenge();
    call.send({ t: "challenge_now" });
  });
  if (btn.mute) btn.mute.addEventListener("click", () => LiveCall.toggle(btn.mute, stream && stream.getAudioTracks(), "Mute", "Unmute"));
  if (btn.camera) btn.camera.addEventListener("click", () => LiveCall.toggle(btn.camera, stream && stream.getVideoTracks(), "Stop camera", "Start camera"));
  if (btn.rejoin) btn.rejoin.addEventListener("click", () => location.reload());
}

document.addEventListener("DOMContentLoaded", () => {
  const root = document.getElementById("staff-call");
  if (root) staffCall(root);
});
