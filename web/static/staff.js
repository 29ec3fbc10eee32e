// livecheck recruiter / observer call page.
"use strict";

async function staffCall(root) {
  const mode = root.dataset.mode;
  const status = document.getElementById("call-status");
  const remote = document.getElementById("remote");
  const remoteStream = new MediaStream();
  const hostStream = new MediaStream();
  remote.srcObject = remoteStream;
  let stream = null;
  if (mode === "host") {
    try {
      stream = await navigator.mediaDevices.getUserMedia({ video: { width: { ideal: 640 }, height: { ideal: 480 } }, audio: true });
      document.getElementById("self").srcObject = stream;
    } catch (err) {
      status.textContent = "Your camera or microphone could not be started (" + err.name + "). The candidate will not see you.";
    }
  }
  const call = new LiveCall({
    ws: root.dataset.ws,
    stream,
    onTrack: (ev) => {
      const owner = ev.streams[0] ? ev.streams[0].id : "candidate";
      if (owner === "host") {
        hostStream.addTrack(ev.track);
        const h = document.getElementById("host");
        if (h) h.srcObject = hostStream;
      } else {
        remoteStream.addTrack(ev.track);
        remote.play().catch(() => {});
      }
    },
    onMessage: (m) => {
      if (m.t === "signals") {
        const d = m.data;
        document.getElementById("sig-face").textContent = Math.round(d.face_present * 100) + " %";
        document.getElementById("sig-audio").textContent = d.audio_db.toFixed(1) + " dBFS";
        document.getElementById("sig-rtt").textContent = d.rtt_ms ? d.rtt_ms.toFixed(0) + " ms" : "–";
        document.getElementById("sig-frames").textContent = d.frames_decoded + " / " + d.frames_analysed + " / " + d.frames_dropped;
      }
      if (m.t === "peer") {
        const ev = (m.data || {}).event;
        if (ev === "candidate_joined") status.textContent = "Candidate connected";
        if (ev === "candidate_left") status.textContent = "Candidate left (they may rejoin)";
        if (ev === "candidate_connection_lost") status.textContent = "Candidate's connection lost: waiting for it to come back";
        if (ev === "candidate_connection_restored") status.textContent = "Candidate connected";
      }
      if (m.t === "challenge_issued" || m.t === "challenge_result") {
        const d = m.data;
        const body = document.querySelector("#challenges tbody");
        let row = document.getElementById("ch-" + d.id);
        if (!row) {
          row = document.createElement("tr");
          row.id = "ch-" + d.id;
          row.innerHTML = "<td></td><td>running…</td><td></td><td></td>";
          row.cells[0].textContent = d.kind;
          body.appendChild(row);
        }
        if (m.t === "challenge_result") {
          row.cells[1].textContent = d.outcome + (d.reason ? " (" + d.reason + ")" : "");
          row.cells[1].className = "s-" + d.outcome;
          row.dataset.outcome = d.outcome;
          row.cells[2].textContent = d.latency_ms ? d.latency_ms + " ms" : "–";
          row.cells[3].textContent = d.peak.toFixed(2) + " " + d.unit;
        }
      }
      if (m.t === "ended") status.textContent = "The interview has ended.";
      if (m.t === "error") console.warn("livecheck:", m.error);
    },
    onState: (s) => { if (s === "failed") status.textContent = "Connection failed. Reload to reconnect."; },
  });
  call.start();
  window.lcCall = call; // the connection panel below and the browser console read it
  setInterval(async () => {
    const s = await call.stats();
    document.getElementById("sig-conn").textContent = s.videoFramesDecoded + " frames decoded, " + s.audioPackets + " audio packets" + (s.rttMs !== null ? ", RTT " + s.rttMs.toFixed(0) + " ms" : "");
  }, 1000);
  const end = document.getElementById("end");
  if (end) end.addEventListener("click", () => { if (confirm("End the interview for everyone?")) call.send({ t: "end" }); });
  const ch = document.getElementById("challenge-now");
  if (ch) ch.addEventListener("click", () => call.send({ t: "challenge_now" }));
}

document.addEventListener("DOMContentLoaded", () => {
  const root = document.getElementById("staff-call");
  if (root) staffCall(root);
});
