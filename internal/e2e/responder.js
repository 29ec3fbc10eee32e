// responder.js — the genuine candidate of the end-to-end tests (never served by
// the product). The test injects it into every document of the candidate's
// browser before the page's own scripts (Page.addScriptToEvaluateOnNewDocument)
// with its configuration filled in (CFG below): a still face image and its 68
// landmarks, found by internal/vision when the test starts.
//
// It replaces navigator.mediaDevices.getUserMedia with a canvas stream: a camera
// filming a person who reads the screen and does what it says. Nothing in the
// page is changed; the person only looks at what the page shows.
//
//   - The person sees the prompt overlay (#overlay data-kind/dir/count) once it
//     is painted and reacts after a human reaction time (350–650 ms).
//   - turn_head: the head turns to the asked side (CFG.turnDeg {left, right},
//     degrees) and back, easing in and out over about 2 s. The still is rendered
//     as a 3D head: a generic depth profile (shallow across the eyes, receding to
//     the sides, a nose ridge 19 mm proud at the tip) anchored on the still's
//     landmarks (nose tip, eye-corner span = 88 mm as in internal/vision's pose
//     model), turned about a vertical axis 95 mm behind the nose tip and
//     projected with the pinhole camera the pose solver assumes (focal length =
//     frame width). The hair turns with the head; around it the turn fades out
//     into the still background.
//   - blink: the eyes close (lids of the skin below the eye, a lash line and a
//     crease) for 180–240 ms, the requested number of times, 350–450 ms apart.
//   - flash: the face reflects the screen: it is lit (multiplied, strongest on the
//     face) by the colour of the full-screen #flashscreen, averaged over the
//     frame's exposure.
//   - The camera delivers each frame CFG.latencyMs after it saw the scene
//     (webcams take 50–150 ms from exposure to a delivered frame; a canvas has
//     none of it, so it is modelled here).
//   - An AudioContext tone at a low level is the microphone.
//
// window.__lcResponder exposes its event log, renderAt() and simulate() for the
// tests.
(function () {
  "use strict";
  const CFG = /*CONFIG*/ null;
  if (!CFG || !navigator.mediaDevices) return;
  const W = CFG.width, H = CFG.height, FPS = CFG.fps || 15;
  const LATENCY = CFG.latencyMs == null ? 120 : CFG.latencyMs;
  const TURN = Object.assign({ left: 55, right: 45 }, CFG.turnDeg || {}); // degrees
  const rnd = (a, b) => a + Math.random() * (b - a);

  const state = { events: [] };
  window.__lcResponder = state;
  const log = (what, extra) => {
    const e = Object.assign({ what, t: Math.round(performance.now()), wall: Date.now() }, extra || {});
    state.events.push(e);
    if (state.events.length > 500) state.events.shift();
  };

  // ---------------------------------------------------------------- the still
  const canvas = document.createElement("canvas");
  canvas.width = W;
  canvas.height = H;
  const ctx = canvas.getContext("2d", { willReadFrequently: true });
  let openPx = null, closedPx = null; // Uint8ClampedArray RGBA of the still, eyes open / closed
  const out = new ImageData(W, H);

  function loadImage(src) {
    return new Promise((resolve, reject) => {
      const img = new Image();
      img.onload = () => resolve(img);
      img.onerror = () => reject(new Error("responder: still not decodable"));
      img.src = src;
    });
  }

  // closeEyes paints closed eyelids over the eyes: the eye opening covered with lid
  // skin (the skin just below the eye, a little darker toward the lid's edge), a dark
  // curved lash line along the lower lid, and a faint crease above.
  function closeEyes(c, lm) {
    c.save();
    c.filter = "blur(0.7px)";
    for (const e of [36, 42]) {
      const pts = lm.slice(e, e + 6);
      const cx = pts.reduce((a, p) => a + p[0], 0) / 6, cy = pts.reduce((a, p) => a + p[1], 0) / 6;
      const w = Math.hypot(pts[3][0] - pts[0][0], pts[3][1] - pts[0][1]);
      const low = Math.max(pts[4][1], pts[5][1]), high = Math.min(pts[1][1], pts[2][1]);
      const h = Math.max(2, low - high);
      const below = c.getImageData(Math.round(cx - w / 2), Math.round(low + 0.8 * h), Math.max(1, Math.round(w)), Math.max(1, Math.round(h))).data;
      let r = 0, g = 0, b = 0, n = 0;
      for (let i = 0; i < below.length; i += 4) { r += below[i]; g += below[i + 1]; b += below[i + 2]; n++; }
      r /= n; g /= n; b /= n;
      const rgb = (k) => `rgb(${(r * k) | 0},${(g * k) | 0},${(b * k) | 0})`;
      const gr = c.createLinearGradient(0, high - 0.6 * h, 0, low + 0.3 * h);
      gr.addColorStop(0, rgb(1));
      gr.addColorStop(1, rgb(0.85));
      c.fillStyle = gr;
      c.beginPath();
      pts.forEach((p, i) => {
        const x = cx + 1.25 * (p[0] - cx), y = cy + (p[1] < cy ? 1.9 : 1.5) * (p[1] - cy);
        if (i) c.lineTo(x, y); else c.moveTo(x, y);
      });
      c.closePath();
      c.fill();
      c.lineCap = "round";
      c.strokeStyle = rgb(0.3);
      c.lineWidth = Math.max(2, 0.09 * w);
      c.beginPath();
      c.moveTo(pts[0][0], pts[0][1]);
      c.quadraticCurveTo(cx, low + 0.35 * h, pts[3][0], pts[3][1]);
      c.stroke();
      c.strokeStyle = rgb(0.75);
      c.lineWidth = Math.max(1, 0.04 * w);
      c.beginPath();
      c.moveTo(pts[0][0], pts[0][1] - 0.2 * h);
      c.quadraticCurveTo(cx, high - 0.9 * h, pts[3][0], pts[3][1] - 0.2 * h);
      c.stroke();
    }
    c.restore();
  }

  // --------------------------------------------------------------- the head
  // Model coordinates in millimetres as internal/vision/pose.go: origin at the
  // nose tip, X toward image right, Y down, Z away from the camera.
  const lm = CFG.landmarks;
  const nose = lm[30];
  const span = Math.hypot(lm[45][0] - lm[36][0], lm[45][1] - lm[36][1]);
  const S = span / 88; // px per mm at the nose tip (outer eye corners 88 mm apart)
  const F = W, CX = W / 2, CY = H / 2; // the pose solver's pinhole camera
  const D = F / S; // camera to nose tip, mm
  const XN = (nose[0] - CX) / S; // nose tip, camera X
  // The head (CFG.head overrides).
  const HEAD = Object.assign({
    pivot: 95, // the neck's turning axis behind the nose tip
    p1: 3, p0: 44, p2: 0.05, b: 130, fy: -25, back: 90, // the face's depth profile, see depth
    rx: 100, ry: 140, yc: -50, // the head with its hair, which turns whole inside this ellipse
    fade: 1.25, // around it the turn fades out to the still background by fade × the radii
  }, CFG.head || {});
  let U0, U1, V0, V1, RW, mX, mZ, mW, up, zk, zbuf;

  // depth of the head's surface at (X, Y), mm: across the eyes a shallow curve
  // (the pose model's inner/outer eye corners at ~25/32 mm behind the nose tip),
  // receding fast beyond the outer eye corners (p0) to the sides of the head
  // (back, about the depth of the turning axis: side hair moves in and behind the
  // face); a 4th-power profile in Y (flat face, forehead and chin receding), the
  // forehead sloping back, the neck set back under the chin; the nose a ridge from
  // the bridge to the tip, 19 mm proud of the face at the tip.
  function depth(X, Y) {
    const ey = (Y - HEAD.fy) / HEAD.b, o = Math.max(0, Math.abs(X) - HEAD.p0);
    let z = 19 + HEAD.p1 * (X / 30) * (X / 30) + HEAD.p2 * o * o + 99 * ey * ey * ey * ey;
    if (Y < -50) z += 0.006 * (Y + 50) * (Y + 50);
    if (Y > 75) z += 0.04 * (Y - 75) * (Y - 75);
    z = Math.min(z, HEAD.back);
    let h = 0;
    if (Y >= -38 && Y <= 0) h = 19 * (Y + 38) / 38;
    else if (Y > 0 && Y < 16) h = 19 * (1 - (Y / 16) * (Y / 16));
    if (h > 0) {
      const sg = 5 + 4 * Math.min(1, Math.max(0, (Y + 38) / 40));
      z -= h * Math.exp(-X * X / (2 * sg * sg));
    }
    return z;
  }

  // weight is 1 on the head and fades to 0 around it.
  function weight(X0, Y) {
    const r = Math.hypot(X0 / HEAD.rx, (Y - HEAD.yc) / HEAD.ry);
    const k = Math.min(1, Math.max(0, (HEAD.fade - r) / (HEAD.fade - 1)));
    return r <= 1 ? 1 : k * k * (3 - 2 * k);
  }

  // build precomputes the region that moves and per pixel its model X (back-projected
  // at its depth), depth and weight.
  function build() {
    const FX = HEAD.fade * HEAD.rx * S, FY = HEAD.fade * HEAD.ry * S;
    U0 = Math.max(0, Math.floor(nose[0] - FX)); U1 = Math.min(W - 1, Math.ceil(nose[0] + FX));
    V0 = Math.max(0, Math.floor(nose[1] + HEAD.yc * S - FY)); V1 = Math.min(H - 1, Math.ceil(nose[1] + HEAD.yc * S + FY));
    RW = U1 - U0 + 1;
    const n = RW * (V1 - V0 + 1);
    mX = new Float32Array(n); mZ = new Float32Array(n); mW = new Float32Array(n);
    for (let v = V0; v <= V1; v++) {
      const Y = (v - nose[1]) / S;
      for (let u = U0; u <= U1; u++) {
        const X0 = (u - nose[0]) / S;
        const z = depth(X0, Y);
        const i = (v - V0) * RW + (u - U0);
        mZ[i] = z;
        mX[i] = (u - CX) * (D + z) / F - XN;
        mW[i] = weight(X0, Y);
      }
    }
    up = new Float32Array(RW); zk = new Float32Array(RW); zbuf = new Float32Array(W);
  }
  build();

  // warp renders src (RGBA) with the head turned by deg into out: each point turns
  // about the vertical axis HEAD.pivot mm behind the nose tip (deg > 0: the nose
  // toward image right, the person's left) and is projected again. Each row is
  // forward-mapped (the turn moves points horizontally) and drawn as spans between
  // neighbouring pixels, nearest surface first (the nose hides the far cheek, the
  // face hides the hair behind it).
  function warp(src, deg) {
    const d = out.data;
    d.set(src);
    const th = deg * Math.PI / 180, ct = Math.cos(th), st = Math.sin(th), P = HEAD.pivot;
    for (let v = V0; v <= V1; v++) {
      const row = (v - V0) * RW;
      for (let j = 0; j < RW; j++) {
        const i = row + j, u = U0 + j, w = mW[i];
        const X = mX[i], dZ = mZ[i] - P;
        const Zr = P + X * st + dZ * ct;
        const ur = CX + F * (XN + X * ct - dZ * st) / (D + Zr);
        up[j] = u + w * (ur - u);
        zk[j] = Zr + (1 - w) * 400; // the background stays behind the head
      }
      zbuf.fill(Infinity, U0, U1 + 1);
      const base = v * W * 4;
      for (let j = 0; j + 1 < RW; j++) {
        const a = up[j], b = up[j + 1];
        const lo = Math.max(U0, Math.ceil(Math.min(a, b))), hi = Math.min(U1, Math.floor(Math.max(a, b)));
        for (let x = lo; x <= hi; x++) {
          const t = b === a ? 0 : (x - a) / (b - a);
          const z = zk[j] + t * (zk[j + 1] - zk[j]);
          if (z >= zbuf[x]) continue;
          zbuf[x] = z;
          const s0 = base + (U0 + j) * 4, o = base + x * 4;
          d[o] = src[s0] + t * (src[s0 + 4] - src[s0]);
          d[o + 1] = src[s0 + 1] + t * (src[s0 + 5] - src[s0 + 1]);
          d[o + 2] = src[s0 + 2] + t * (src[s0 + 6] - src[s0 + 2]);
        }
      }
    }
  }

  // -------------------------------------------------------------- the scene
  const actions = []; // {kind, from, to, ...}: what the person does, in page time
  const screen = []; // {t, rgb}: the flash screen's colour (null: none) as it changed

  // screenLight is the screen's colour averaged over the exposure that ends at t1
  // (a camera integrates the light of a frame interval); null without a flash.
  const EXPOSURE = 1000 / FPS;
  function screenLight(t1, hist) {
    const t0 = t1 - EXPOSURE, acc = [0, 0, 0];
    let i = hist.length - 1;
    while (i >= 0 && hist[i].t > t0) i--;
    let cur = i >= 0 ? hist[i].rgb : null, t = t0, lit = false;
    const add = (c, dt) => {
      if (c) lit = true;
      for (let k = 0; k < 3; k++) acc[k] += (c ? c[k] : 255) * dt;
    };
    for (let j = i + 1; j < hist.length && hist[j].t < t1; j++) {
      add(cur, hist[j].t - t);
      t = hist[j].t;
      cur = hist[j].rgb;
    }
    add(cur, t1 - t);
    return lit ? acc.map((x) => x / EXPOSURE) : null;
  }

  const ease = (x) => 0.5 - 0.5 * Math.cos(Math.PI * Math.min(1, Math.max(0, x)));

  function sceneAt(t, acts, hist) {
    let yaw = 0, closed = false;
    for (const a of acts || actions) {
      if (t < a.from || t > a.to) continue;
      if (a.kind === "turn") {
        const x = t - a.from;
        const up = a.rise, hold = a.hold;
        yaw += a.deg * (x < up ? ease(x / up) : x < up + hold ? 1 : 1 - ease((x - up - hold) / a.fall));
      } else if (a.kind === "closed") {
        closed = true;
      }
    }
    return { yaw, closed, tint: screenLight(t, hist || screen) };
  }

  // render draws a scene into the 2D context c.
  function render(c, sc) {
    const src = sc.closed ? closedPx : openPx;
    if (Math.abs(sc.yaw) < 0.05) out.data.set(src);
    else warp(src, sc.yaw);
    c.putImageData(out, 0, 0);
    if (sc.tint) {
      // Light from the screen: reflected light is the face's albedo times the
      // illumination, a room light plus the screen's colour, strongest on the face.
      const k = CFG.tint || 0.25;
      const [r, g, b] = sc.tint.map((x) => Math.round(255 * (1 - k) + x * k));
      const shift = S * Math.sin(sc.yaw * Math.PI / 180) * HEAD.pivot;
      const gr = c.createRadialGradient(nose[0] + shift, nose[1], 0, nose[0] + shift, nose[1], 1.2 * HEAD.rx * S);
      gr.addColorStop(0, `rgb(${r},${g},${b})`);
      gr.addColorStop(0.6, `rgb(${r},${g},${b})`);
      gr.addColorStop(1, "rgb(255,255,255)");
      c.save();
      c.globalCompositeOperation = "multiply";
      c.fillStyle = gr;
      c.fillRect(0, 0, W, H);
      c.restore();
    }
  }

  // ------------------------------------------------- what the person sees
  // What the page shows is read in requestAnimationFrame callbacks, before the frame
  // is painted; it is on the screen by the next callback, and only then can the
  // person (or the camera) see it. The page acknowledges a prompt at that moment too.
  function readScreen() {
    const el = document.getElementById("flashscreen");
    let rgb = null;
    if (el) {
      const m = /rgba?\((\d+),\s*(\d+),\s*(\d+)/.exec(getComputedStyle(el).backgroundColor);
      if (m) rgb = [+m[1], +m[2], +m[3]];
    }
    return rgb;
  }

  function readPrompt() {
    const o = document.getElementById("overlay");
    if (!o || o.hidden) return null;
    return { kind: o.dataset.kind, dir: o.dataset.dir, count: +o.dataset.count || 0, key: [o.dataset.kind, o.dataset.dir, o.dataset.count, o.getAttribute("aria-label")].join("|") };
  }

  let shownRGB = null, shownPrompt = "", painted = null; // what the last frame painted
  function watch() {
    const now = performance.now();
    if (painted) { // on the screen since the previous callback's frame
      if (String(painted.rgb) !== String(shownRGB)) {
        shownRGB = painted.rgb;
        screen.push({ t: now, rgb: shownRGB });
        if (screen.length > 400) screen.shift();
        log("screen", { rgb: shownRGB });
      }
      const key = painted.prompt ? painted.prompt.key : "";
      if (key !== shownPrompt) {
        shownPrompt = key;
        if (painted.prompt) react(painted.prompt.kind, painted.prompt.dir, painted.prompt.count);
      }
    }
    painted = { rgb: readScreen(), prompt: readPrompt() };
  }

  // respond returns what the person does about a prompt seen at time now: after a
  // reaction time, a head turn out and back, or the requested number of blinks.
  function respond(kind, dir, count, now) {
    const out = [];
    const rt = rnd(350, 650);
    if (kind === "turn_head") {
      const a = {
        kind: "turn", deg: dir === "right" ? -TURN.right : TURN.left, from: now + rt,
        rise: rnd(600, 800), hold: rnd(600, 900), fall: rnd(600, 800),
      };
      a.to = a.from + a.rise + a.hold + a.fall;
      out.push(a);
    } else if (kind === "blink") {
      let t = now + rt;
      for (let i = 0; i < Math.max(1, count); i++) {
        const dur = rnd(180, 240);
        out.push({ kind: "closed", from: t, to: t + dur });
        t += dur + rnd(350, 450);
      }
    }
    return out;
  }

  // react plans the person's response to a prompt seen now.
  function react(kind, dir, count) {
    const now = performance.now();
    log("prompt", { kind, dir, count });
    for (const a of respond(kind, dir, count, now)) {
      actions.push(a);
      log(a.kind, { deg: a.deg, from: Math.round(a.from), to: Math.round(a.to) });
    }
    while (actions.length > 50) actions.shift();
  }

  // ------------------------------------------------------------- the camera
  function tick() {
    render(ctx, sceneAt(performance.now() - LATENCY));
  }

  let audioCtx = null;
  function audioTrack() {
    audioCtx = audioCtx || new AudioContext();
    const osc = audioCtx.createOscillator();
    osc.frequency.value = 180;
    const gain = audioCtx.createGain();
    gain.gain.value = 0.02;
    const dst = audioCtx.createMediaStreamDestination();
    osc.connect(gain).connect(dst);
    osc.start();
    return dst.stream.getAudioTracks()[0];
  }

  const ready = (async () => {
    const img = await loadImage(CFG.image);
    ctx.drawImage(img, 0, 0, W, H);
    openPx = ctx.getImageData(0, 0, W, H).data;
    closeEyes(ctx, lm);
    closedPx = ctx.getImageData(0, 0, W, H).data;
    render(ctx, sceneAt(0));
    setInterval(tick, 1000 / FPS);
    const raf = () => {
      requestAnimationFrame(raf);
      try { watch(); } catch (e) { log("error", { message: String(e && e.stack || e) }); }
    };
    requestAnimationFrame(raf);
    log("ready", { region: [U0, V0, U1, V1], pxPerMM: S, distMM: D });
  })();
  state.ready = ready;

  navigator.mediaDevices.getUserMedia = async function (c) {
    await ready;
    const s = new MediaStream();
    if (c && c.video) s.addTrack(canvas.captureStream(FPS).getVideoTracks()[0]);
    if (c && c.audio) s.addTrack(audioTrack());
    log("getUserMedia");
    return s;
  };

  // simulate returns the scenes a camera at fps sees over ms after a prompt shown at 0
  // (offline tests of the responder against internal/vision and the verifiers); flash,
  // when set ({colors: ["#rrggbb", …], step_ms}), is what the screen shows from 0.
  state.simulate = function (kind, dir, count, fps, ms, flash) {
    const acts = respond(kind, dir, count, 0);
    const hist = [];
    if (flash) {
      const hex = (c) => [1, 3, 5].map((i) => parseInt(c.slice(i, i + 2), 16));
      flash.colors.forEach((c, i) => hist.push({ t: i * flash.step_ms, rgb: hex(c) }));
      hist.push({ t: flash.colors.length * flash.step_ms, rgb: null });
    }
    const out = [];
    for (let t = -2000; t < ms; t += 1000 / fps) {
      const sc = sceneAt(t - LATENCY, acts, hist);
      out.push({ t: Math.round(t), yaw: Math.round(sc.yaw * 2) / 2, closed: sc.closed, tint: sc.tint && sc.tint.map(Math.round) });
    }
    return { actions: acts, scenes: out };
  };

  // renderAt renders one scene ({yaw, closed, tint: [r,g,b]}) to a PNG data URL.
  state.renderAt = async function (sc) {
    await ready;
    const c = document.createElement("canvas");
    c.width = W;
    c.height = H;
    const t0 = performance.now();
    render(c.getContext("2d"), Object.assign({ yaw: 0, closed: false, tint: null }, sc));
    state.lastRenderMs = performance.now() - t0;
    return c.toDataURL("image/png");
  };
})();
