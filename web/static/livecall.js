// livecheck live call: WebSocket signaling with the server, which is always the
// offerer. Shared by the candidate's and the staff's call pages.
"use strict";

class LiveCall {
  constructor(opts) {
    this.opts = opts;           // {ws, route, stream, onTrack, onControl, onMessage, onState}
    this.pc = null;
    this.ws = null;
    this.pendingCandidates = [];
    this.closed = false;
  }

  // start asks the page's server which node holds the interview (route: an
  // absolute signaling URL with a short-lived ticket for that node), then
  // opens the signaling socket there; without a route, on this origin.
  start() {
    if (!this.opts.route) {
      const proto = location.protocol === "https:" ? "wss:" : "ws:";
      this.open(proto + "//" + location.host + this.opts.ws);
      return;
    }
    fetch(this.opts.route, { cache: "no-store", credentials: "same-origin", headers: { Accept: "application/json" } })
      .then((r) => r.ok ? r.json() : Promise.reject(new Error("route: " + r.status)))
      .then((route) => { this.node = route.node; if (!this.closed) this.open(route.ws); })
      .catch((err) => { console.warn("livecheck:", err); if (!this.closed) this.state("disconnected"); });
  }

  open(url) {
    this.ws = new WebSocket(url);
    this.ws.onmessage = (ev) => this.onSignal(JSON.parse(ev.data));
    this.ws.onclose = () => { if (!this.closed) this.state("disconnected"); };
    this.ws.onerror = () => this.state("error");
  }

  send(msg) {
    if (this.ws && this.ws.readyState === WebSocket.OPEN) this.ws.send(JSON.stringify(msg));
  }

  state(s, detail) { if (this.opts.onState) this.opts.onState(s, detail); }

  createPC(iceServers) {
    const pc = new RTCPeerConnection({ iceServers: iceServers || [] });
    this.pc = pc;
    if (this.opts.stream) {
      for (const track of this.opts.stream.getTracks()) pc.addTrack(track, this.opts.stream);
    }
    pc.onicecandidate = (ev) => {
      this.send({ t: "candidate", candidate: ev.candidate ? ev.candidate.toJSON() : { candidate: "" } });
    };
    pc.ontrack = (ev) => { if (this.opts.onTrack) this.opts.onTrack(ev); };
    pc.ondatachannel = (ev) => { if (this.opts.onControl) this.opts.onControl(ev.channel); };
    pc.onconnectionstatechange = () => this.state(pc.connectionState);
  }

  async onSignal(m) {
    switch (m.t) {
      case "hello":
        this.createPC(m.ice_servers);
        this.state("signaling");
        break;
      case "offer":
        await this.pc.setRemoteDescription({ type: "offer", sdp: m.sdp });
        for (const c of this.pendingCandidates) await this.pc.addIceCandidate(c).catch(() => {});
        this.pendingCandidates = [];
        const answer = await this.pc.createAnswer();
        await this.pc.setLocalDescription(answer);
        this.send({ t: "answer", sdp: answer.sdp });
        if (this.opts.scalabilityMode) this.setScalability(this.opts.scalabilityMode);
        break;
      case "candidate":
        if (!this.pc || !this.pc.remoteDescription) { this.pendingCandidates.push(m.candidate); break; }
        await this.pc.addIceCandidate(m.candidate).catch(() => {});
        break;
      default:
        if (this.opts.onMessage) this.opts.onMessage(m);
    }
  }

  // setScalability asks the browser to encode the camera with VP8 temporal
  // layers (e.g. "L1T3"): the server skips decoding the top layer's frames,
  // which no other frame references, between liveness challenges
  // (docs/BENCH.md). Feature-detected; a browser that refuses keeps sending as
  // before. The outcome is kept in this.scalability for the diagnostics.
  async setScalability(mode) {
    this.scalability = "unsupported";
    try {
      const caps = window.RTCRtpSender && RTCRtpSender.getCapabilities ? RTCRtpSender.getCapabilities("video") : null;
      const vp8 = caps && caps.codecs ? caps.codecs.filter((c) => /vp8/i.test(c.mimeType)) : [];
      if (vp8.length && vp8.some((c) => Array.isArray(c.scalabilityModes)) && !vp8.some((c) => (c.scalabilityModes || []).includes(mode))) return;
      for (const sender of this.pc.getSenders()) {
        if (!sender.track || sender.track.kind !== "video" || !sender.getParameters || !sender.setParameters) continue;
        const params = sender.getParameters();
        if (!params.encodings || !params.encodings.length) continue;
        params.encodings[0].scalabilityMode = mode;
        await sender.setParameters(params);
        const now = sender.getParameters().encodings[0].scalabilityMode;
        this.scalability = now === mode ? mode : "ignored";
      }
    } catch (e) {
      this.scalability = "refused";
    }
  }

  leave() {
    this.closed = true;
    this.send({ t: "leave" });
    if (this.pc) this.pc.close();
    if (this.ws) this.ws.close();
  }

  // stats summarises getStats() for the connection panel.
  async stats() {
    const out = { videoFramesDecoded: 0, videoBytes: 0, audioPackets: 0, audioBytes: 0, rttMs: null, sentFrames: 0 };
    if (!this.pc) return out;
    const report = await this.pc.getStats();
    report.forEach((s) => {
      if (s.type === "inbound-rtp" && s.kind === "video") { out.videoFramesDecoded += s.framesDecoded || 0; out.videoBytes += s.bytesReceived || 0; }
      if (s.type === "inbound-rtp" && s.kind === "audio") { out.audioPackets += s.packetsReceived || 0; out.audioBytes += s.bytesReceived || 0; }
      if (s.type === "outbound-rtp" && s.kind === "video") { out.sentFrames += s.framesSent || 0; }
      if (s.type === "candidate-pair" && s.nominated && s.currentRoundTripTime !== undefined) out.rttMs = s.currentRoundTripTime * 1000;
    });
    return out;
  }
  // toggle switches tracks off and on (mute, camera), keeping the button's
  // label and aria-pressed in step.
  static toggle(button, tracks, onLabel, offLabel) {
    if (!tracks || !tracks.length) return;
    const off = button.getAttribute("aria-pressed") !== "true";
    tracks.forEach((t) => { t.enabled = !off; });
    button.setAttribute("aria-pressed", String(off));
    button.textContent = off ? offLabel : onLabel;
  }

  // clock formats a call's running time: 4:07, 1:02:09.
  static clock(ms) {
    const s = Math.max(0, Math.floor(ms / 1000));
    const h = Math.floor(s / 3600), m = Math.floor((s % 3600) / 60), r = s % 60;
    return (h ? h + ":" + String(m).padStart(2, "0") : m) + ":" + String(r).padStart(2, "0");
  }
}
window.LiveCall = LiveCall;
