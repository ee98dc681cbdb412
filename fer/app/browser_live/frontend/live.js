// Live's browser mode: the camera or a shared window, tab or screen is analysed in this browser (face_engine.js),
// the overlay is drawn here, and only numbers leave: about once a second, the face rows of the frames analysed since
// the server last confirmed, as the component's value. No media track is sent anywhere (no RTCPeerConnection).
// A batch the page has not confirmed yet is sent again with the next one (the server skips frames it has), so a
// batch lost between two reruns loses nothing; what waits is bounded.
"use strict";

const BATCH_MS = 1000;
const MAX_WAITING = 90; // frames kept for the server at most (fer.engine.observations.MAX_FRAMES)
const MAX_DETECT_SIDE = 1280; // px: detection never runs on more (a 4K screen is looked at scaled)
const MIN_DETECT_SIDE = 160; // px: a near face is found on a 160x120 picture of a camera's frame
const FACE_PX_LOW = 28; // faces smaller than this at the detector's scale: look closer
const FACE_PX_HIGH = 56; // all faces larger: look at fewer pixels
const MISSES_BEFORE_CLOSER = 10; // frames without a face before looking closer
const FRAME_WAIT_MS = 40; // the longest wait for the video's next frame
// a shared screen's faces sit still in a call's tiles: found on every 2nd frame, read on every frame (as the server's
// analysis of a recording reads the faces it tracks between detections); a camera's are found on every frame
const SCREEN_DETECT_EVERY = 2;
const SMOOTH_S = 0.5; // fer.engine.smoothing.SmoothingConfig.seconds: the overlay shows what the server averages
const SAME_FACE_IOU = 0.3; // a face overlapping the last frame's this much is the same face, for the average

const video = document.getElementById("video");
const stage = document.getElementById("stage");
const overlay = document.getElementById("overlay");
const statusLine = document.getElementById("status");
const buttons = { camera: document.getElementById("camera"), screen: document.getElementById("screen"), stop: document.getElementById("stop") };
const context = overlay.getContext("2d");
const frameCanvas = document.createElement("canvas");
const frameContext = frameCanvas.getContext("2d", { willReadFrequently: true });

let args = {};
let engine = null;
let loading = false;
let stream = null;
let waiting = []; // frames not yet confirmed by the server
let seq = Date.now(); // increases across reloads of this frame, so the page never takes a new batch for an old one
let timer = null;
let detectScale = 1;
let misses = 0;
let shownFaces = [];
let shownReadings = []; // per shown face: its smoothed probabilities, or null where it is not read
let smoothed = []; // the read faces of the last frame: {box, t, probs}
let kind = "camera"; // or "screen"
let found = null; // the faces of the last detection
let frameIndex = 0;
let analysedTimes = [];

function send(type, extra) {
  window.parent.postMessage(Object.assign({ isStreamlitMessage: true, type: type }, extra || {}), "*");
}

function fitHeight() {
  send("streamlit:setFrameHeight", { height: Math.ceil(document.body.getBoundingClientRect().height) + 4 });
}

function say(text) {
  statusLine.textContent = text;
  fitHeight();
}

window.addEventListener("message", function (event) {
  if (event.data && event.data.type === "streamlit:render") {
    applyTheme(event.data.theme);
    render(event.data.args || {});
  }
});

function applyTheme(theme) { // the page's light or dark theme: the frame's text and buttons follow it
  if (!theme) { return; }
  document.body.style.color = theme.textColor || "";
  document.body.style.fontFamily = theme.font || "";
  buttons.camera.style.background = buttons.camera.style.borderColor = theme.primaryColor || "";
}

function render(newArgs) {
  args = newArgs;
  if (typeof args.ack === "number") { waiting = waiting.filter(function (frame) { return frame.t > args.ack; }); }
  if (!engine && !loading) { load(); }
  fitHeight();
}

async function load() {
  loading = true;
  try {
    ort.env.wasm.numThreads = 1; // threads need a cross-origin isolated page, which Streamlit's is not
    ort.env.wasm.wasmPaths = new URL("vendor/", document.baseURI).href; // this component's own copy: nothing is fetched from elsewhere
    engine = await FaceEngine.create(ort, {
      detectorUrl: args.detector_url, classifierUrl: args.classifier_url, threshold: args.threshold,
      nmsIou: args.nms_iou, margin: args.margin, temperature: args.temperature,
    });
    buttons.camera.disabled = buttons.screen.disabled = false;
    say("Ready. Only numbers leave this browser: per face, its box, pose, image signals and expression probabilities.");
  } catch (error) {
    say("The models could not be loaded in this browser (" + error + "). Reload the page, or use the server mode.");
  } finally {
    loading = false;
  }
}

async function start(source) {
  if (stream) { return; }
  kind = source;
  try {
    stream = kind === "camera"
      ? await navigator.mediaDevices.getUserMedia({ video: { width: { ideal: 640 }, height: { ideal: 480 } }, audio: false })
      : await navigator.mediaDevices.getDisplayMedia({ video: true, audio: false });
  } catch (error) {
    stream = null;
    say(kind === "camera"
      ? "No camera could be opened (" + error.name + "): allow this page to use it, or pick another."
      : "Nothing is shared (" + error.name + "): pick a window, tab or screen to analyse.");
    return;
  }
  stream.getVideoTracks()[0].addEventListener("ended", stop); // the camera unplugged, or sharing stopped
  video.srcObject = stream;
  stage.style.display = "block";
  await video.play().catch(function () { /* autoplay of a muted stream is allowed; a refusal shows as no frames */ });
  const width = video.videoWidth || 640;
  detectScale = Math.min(1, (kind === "camera" ? 320 : 640) / width); // a camera's faces are near, a gallery's small
  misses = 0;
  found = null;
  frameIndex = 0;
  analysedTimes = [];
  buttons.camera.disabled = buttons.screen.disabled = true;
  buttons.stop.disabled = false;
  timer = setInterval(function () { flush(false); }, BATCH_MS);
  say("Analysing in this browser…");
  loop(stream);
}

async function loop(mine) {
  while (stream === mine) {
    if (video.readyState >= 2 && video.videoWidth) { await analyseFrame(mine); }
    await nextFrame();
  }
}

function nextFrame() {
  // the next frame the video presents, or after FRAME_WAIT_MS: never the same frame twice at a camera's rate, and
  // a task boundary in between (WebAssembly runs on this thread: without one, the frame would answer nothing else)
  return new Promise(function (resolve) {
    const timeout = setTimeout(resolve, FRAME_WAIT_MS);
    if (video.requestVideoFrameCallback) {
      video.requestVideoFrameCallback(function () { clearTimeout(timeout); setTimeout(resolve, 0); });
    }
  });
}

async function analyseFrame(mine) {
  const width = video.videoWidth;
  const height = video.videoHeight;
  const t = (performance.timeOrigin + performance.now()) / 1000; // on the browser's clock, across reloads
  if (frameCanvas.width !== width || frameCanvas.height !== height) { // a shared window resized: look again
    frameCanvas.width = width;
    frameCanvas.height = height;
    found = null;
  }
  const started = performance.now();
  frameContext.drawImage(video, 0, 0, width, height);
  const rgba = frameContext.getImageData(0, 0, width, height).data;
  const grabbed = performance.now();
  if (!(frameIndex % (kind === "camera" ? 1 : SCREEN_DETECT_EVERY)) || !found) {
    found = await engine.detect(rgba, width, height, detectScale);
    adaptScale(found.map(function (face) { return face.box; }), width, height);
  }
  frameIndex += 1;
  const rows = await engine.read(rgba, width, height, found);
  statusLine.dataset.grabMs = (grabbed - started).toFixed(1); // where a frame's time goes, for bench/browser_live.py
  statusLine.dataset.analyseMs = (performance.now() - grabbed).toFixed(1);
  if (stream !== mine) { return; }
  const faces = rows.map(rounded).filter(function (r) { return r[2] > r[0] && r[3] > r[1]; }); // none the server refuses
  waiting.push({ t: Math.round(t * 1000) / 1000, w: width, h: height, faces: faces });
  if (waiting.length > MAX_WAITING) { waiting.splice(0, waiting.length - MAX_WAITING); }
  shownFaces = rows;
  shownReadings = smoothReadings(rows, t);
  draw();
  analysedTimes.push(performance.now());
  if (analysedTimes.length > 30) { analysedTimes.shift(); }
  const fps = analysedTimes.length > 1
    ? (analysedTimes.length - 1) / ((analysedTimes[analysedTimes.length - 1] - analysedTimes[0]) / 1000) : 0;
  statusLine.dataset.fps = fps.toFixed(2); // what the browser tests read
  statusLine.dataset.faces = String(rows.length);
  statusLine.textContent = "Analysing in this browser: " + fps.toFixed(1) + " frames a second, " + rows.length
    + (rows.length === 1 ? " face" : " faces") + ", faces looked for at " + Math.round(width * detectScale) + " px wide.";
}

function rounded(row) { // JSON a tenth of the size, no precision the server uses lost
  return row.map(function (value, i) { return i < 15 ? Math.round(value * 100) / 100 : Math.round(value * 1e5) / 1e5; });
}

function adaptScale(boxes, width, height) {
  // detection at the resolution the faces need: closer while faces are small or none is found, coarser while all
  // are large (a camera's one face costs a quarter of the pixels; a call gallery's small faces keep theirs)
  const longest = Math.max(width, height);
  const most = Math.min(1, MAX_DETECT_SIDE / longest);
  const least = Math.min(most, MIN_DETECT_SIDE / longest);
  if (!boxes.length) {
    misses += 1;
    if (misses >= MISSES_BEFORE_CLOSER) { detectScale = Math.min(most, detectScale * 1.25); misses = 0; }
    return;
  }
  misses = 0;
  const smallest = Math.min.apply(null, boxes.map(function (b) { return Math.max(b[2] - b[0], b[3] - b[1]); })) * detectScale;
  if (smallest < FACE_PX_LOW) { detectScale = Math.min(most, detectScale * 1.25); }
  else if (smallest > FACE_PX_HIGH) { detectScale = Math.max(least, detectScale * 0.85); }
}

function smoothReadings(rows, t) {
  // What the server does with a frame's readings, for the overlay: unread faces get no expression; a read face's
  // probabilities are averaged with the same face's in the last frame (the overlapping box) as the server averages a
  // track's, and the uncertain cut applies to the average, which is what is shown
  const next = [];
  const readings = rows.map(function (row) {
    if (!FaceEngine.readable(row, args.margin, args.readability)) { return null; }
    let probs = row.slice(18);
    let previous = null;
    let overlap = SAME_FACE_IOU;
    smoothed.forEach(function (face) {
      const iou = FaceEngine.iou(face.box, row);
      if (iou > overlap) { previous = face; overlap = iou; }
    });
    if (previous) {
      const weight = 1 - Math.exp(-Math.max(t - previous.t, 0) / SMOOTH_S);
      probs = previous.probs.map(function (p, i) { return p + weight * (probs[i] - p); });
    }
    next.push({ box: row.slice(0, 4), t: t, probs: probs });
    return Math.max.apply(null, probs) >= args.readability.uncertain_below ? probs : null;
  });
  smoothed = next;
  return readings;
}

function draw() {
  const place = FaceOverlay.fitCanvas(overlay, video);
  if (!place) { return; }
  const style = { classes: args.classes, colors: args.colors, unreadColor: args.unread_color };
  const plates = [];
  let read = 0;
  shownFaces.forEach(function (row, i) {
    const probabilities = shownReadings[i];
    read += probabilities ? 1 : 0;
    const best = probabilities ? probabilities.indexOf(Math.max.apply(null, probabilities)) : -1;
    const face = [null, row[0], row[1], row[2] - row[0], row[3] - row[1], best, best < 0 ? 0 : probabilities[best] * 100];
    FaceOverlay.drawFace(context, face, place.scale, place.left, place.top, plates, style);
  });
  overlay.dataset.faces = String(shownFaces.length);
  overlay.dataset.read = String(read);
}

function flush(ended) {
  if (!waiting.length && !ended) { return; }
  seq += 1;
  const value = { key: args.batch_key, seq: seq, frames: waiting.slice(), ended: ended };
  send("streamlit:setComponentValue", { value: value, dataType: "json" });
}

function stop() {
  if (!stream) { return; }
  stream.getTracks().forEach(function (track) { track.stop(); });
  stream = null;
  clearInterval(timer);
  video.srcObject = null;
  stage.style.display = "none";
  shownFaces = [];
  smoothed = [];
  buttons.camera.disabled = buttons.screen.disabled = false;
  buttons.stop.disabled = true;
  flush(true);
  say("Stopped. The last numbers went to the server, which saves the session.");
}

buttons.camera.addEventListener("click", function () { start("camera"); });
buttons.screen.addEventListener("click", function () { start("screen"); });
buttons.stop.addEventListener("click", stop);
window.addEventListener("pagehide", stop); // the tab closes: what was analysed is still sent
new ResizeObserver(function () { fitHeight(); draw(); }).observe(document.body);
send("streamlit:componentReady", { apiVersion: 1 });
