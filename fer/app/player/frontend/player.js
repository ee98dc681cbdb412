// The report's player: the teacher's own recording in a <video>, and on a canvas over it the faces the analysis
// read at that moment (boxes and plates in the expression's colour, thin grey boxes for faces not read, every face
// blurred when the session asked for it). Plain JavaScript speaking Streamlit's component messages: nothing to
// build, nothing fetched from elsewhere. The boxes come once from the app's overlay route; the page sends only
// small arguments (links, a seek request), so a rerun never resends a lesson's boxes.
"use strict";

const video = document.getElementById("video");
const canvas = document.getElementById("overlay");
const note = document.getElementById("note");
const context = canvas.getContext("2d");

const HOLD_S = 1.0; // boxes of an analysed frame stay this long at most (a face gone stays gone)

let args = {};
let overlay = null;
let status = "";  // what the player itself has to say (the boxes failed to load, it plays muted)

function say(text) {
  status = text;
  note.textContent = (args && args.note) || status;
}
let shownRecording = null;
let shownOverlay = null;
let seekNonce = null;

function send(type, extra) {
  window.parent.postMessage(Object.assign({ isStreamlitMessage: true, type: type }, extra || {}), "*");
}

function fitHeight() {
  send("streamlit:setFrameHeight", { height: Math.ceil(document.body.getBoundingClientRect().height) + 2 });
}

window.addEventListener("message", function (event) {
  if (event.data && event.data.type === "streamlit:render") {
    render(event.data.args || {});
  }
});

function render(newArgs) {
  args = newArgs;
  if (args.recording !== shownRecording) {
    shownRecording = args.recording;
    video.src = args.recording;
  }
  if (args.overlay !== shownOverlay) {
    shownOverlay = args.overlay;
    overlay = null;
  }
  if (args.overlay && overlay === null) {
    overlay = false;  // asked for: not again on the next render
    fetch(args.overlay, { credentials: "same-origin" })
      .then(function (response) { return response.ok ? response.json() : Promise.reject(response.status); })
      .then(function (data) { overlay = data; video.dataset.faceFrames = String(data.times.length); draw(); })
      .catch(function () { say("The face boxes could not be loaded; the recording plays without them."); });
  }
  if (args.seek && args.seek.nonce !== seekNonce) {
    seekNonce = args.seek.nonce;
    const seek = args.seek;
    const go = function () {
      video.currentTime = seek.time_s;
      if (seek.play) {
        video.play().catch(function () {
          // A click on the page is not a click on this frame: browsers then start a video only muted.
          video.muted = true;
          video.play()
            .then(function () { say("Playing muted (the browser's rule for videos started from the page): unmute it in the controls."); })
            .catch(function () { /* not even muted: the video waits at the moment for a click on play */ });
        });
      }
    };
    if (video.readyState >= 1) { go(); } else { video.addEventListener("loadedmetadata", go, { once: true }); }
  }
  note.textContent = args.note || status;
  fitHeight();
  draw();
}

function frameBefore(timeS) {
  // the last analysed frame at or before timeS (binary search), or -1
  const times = overlay.times;
  let low = 0;
  let high = times.length - 1;
  let found = -1;
  while (low <= high) {
    const middle = (low + high) >> 1;
    if (times[middle] <= timeS + 1e-3) { found = middle; low = middle + 1; } else { high = middle - 1; }
  }
  return found;
}

function facesOf(frame) {
  // [track, x, y, w, h, label, confidence] for each face of an analysed frame
  const faces = [];
  for (let row = overlay.starts[frame]; row < overlay.starts[frame + 1]; row++) {
    faces.push(overlay.rows.slice(row * 7, row * 7 + 7));
  }
  return faces;
}

function facesAt(timeS) {
  // the faces at timeS: each box moved part of the way to where the same face is in the next analysed frame
  const frame = frameBefore(timeS);
  if (frame < 0 || timeS - overlay.times[frame] > HOLD_S) { return []; }
  const faces = facesOf(frame);
  const next = frame + 1 < overlay.times.length ? frame + 1 : -1;
  if (next < 0 || overlay.times[next] - overlay.times[frame] > HOLD_S) { return faces; }
  const share = (timeS - overlay.times[frame]) / (overlay.times[next] - overlay.times[frame]);
  const later = new Map(facesOf(next).map(function (face) { return [face[0], face]; }));
  return faces.map(function (face) {
    const then = later.get(face[0]);
    if (!then) { return face; }
    const moved = face.slice();
    for (let k = 1; k <= 4; k++) { moved[k] = face[k] + (then[k] - face[k]) * share; }
    return moved;
  });
}

function draw() {
  const place = FaceOverlay.fitCanvas(canvas, video);
  if (!overlay || !place) { return; }
  const scale = place.scale;
  const left = place.left;
  const top = place.top;
  const faces = facesAt(video.currentTime);
  if (args.blur) {
    faces.forEach(function (face) { FaceOverlay.blurFace(context, video, face, scale, left, top); });
  }
  const plates = [];
  const style = { classes: overlay.classes, colors: args.colors, unreadColor: args.unread_color };
  faces.forEach(function (face) { FaceOverlay.drawFace(context, face, scale, left, top, plates, style); });
  canvas.dataset.faces = String(faces.length); // what the browser test reads beside the screenshot
}

function onEveryFrame() {
  draw();
  video.requestVideoFrameCallback(onEveryFrame);
}

if (video.requestVideoFrameCallback) { video.requestVideoFrameCallback(onEveryFrame); }
["seeked", "timeupdate", "loadeddata", "pause"].forEach(function (name) { video.addEventListener(name, draw); });
new ResizeObserver(function () { fitHeight(); draw(); }).observe(document.body); // the video's size is known late
video.addEventListener("error", function () {
  // a link past its time, a session deleted meanwhile, or a file this browser cannot play
  note.textContent = "The recording cannot be played here now. Reload the page; if it stays, it is no longer kept.";
});
window.addEventListener("resize", draw);
send("streamlit:componentReady", { apiVersion: 1 });
