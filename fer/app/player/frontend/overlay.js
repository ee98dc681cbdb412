// How a face is drawn over a video, shared by the report's player and Live's browser mode (which loads this file
// from the player's folder): a box and a plate in the expression's colour, a thin grey box for a face not read,
// a marker instead of a plate on tiny faces, and blurring as in exported videos.
// A face is [track, x, y, w, h, label, confidence]: video pixels, label an index into style.classes or -1 (not
// read), confidence 0-100, track null where none is known yet.
"use strict";

const FaceOverlay = (function () {
  const MIN_PLATE_PX = 24; // smaller faces get a marker, not a plate many times their size
  const tiny = document.createElement("canvas"); // a face shrunk to 6x6 px: blurring starts from a pixelated copy
  tiny.width = tiny.height = 6;

  function fitCanvas(canvas, video) {
    // the canvas over the video: sized to it (sharp on high-density screens), cleared; where the picture sits
    // inside the element (letterboxed, as <video> shows it), or null before the video has a size
    const context = canvas.getContext("2d");
    const ratio = window.devicePixelRatio || 1;
    const width = video.clientWidth;
    const height = video.clientHeight;
    if (canvas.width !== Math.round(width * ratio) || canvas.height !== Math.round(height * ratio)) {
      canvas.width = Math.round(width * ratio);
      canvas.height = Math.round(height * ratio);
      canvas.style.width = width + "px";
      canvas.style.height = height + "px";
    }
    context.setTransform(ratio, 0, 0, ratio, 0, 0);
    context.clearRect(0, 0, width, height);
    if (!video.videoWidth) { return null; }
    const scale = Math.min(width / video.videoWidth, height / video.videoHeight);
    return { scale: scale, left: (width - video.videoWidth * scale) / 2, top: (height - video.videoHeight * scale) / 2 };
  }

  function blurFace(context, source, face, scale, left, top) {
    // the face's square grown by a quarter per side, pixelated then blurred, as in exported videos
    const side = Math.max(face[3], face[4]) * 1.5;
    const sourceX = face[1] + face[3] / 2 - side / 2;
    const sourceY = face[2] + face[4] / 2 - side / 2;
    tiny.getContext("2d").drawImage(source, sourceX, sourceY, side, side, 0, 0, 6, 6);
    const x = left + sourceX * scale;
    const y = top + sourceY * scale;
    const shown = side * scale;
    context.save();
    context.beginPath();
    context.rect(x, y, shown, shown);
    context.clip();
    context.filter = "blur(" + Math.max(2, shown / 10) + "px)";
    context.imageSmoothingEnabled = true;
    context.drawImage(tiny, 0, 0, 6, 6, x - shown * 0.1, y - shown * 0.1, shown * 1.2, shown * 1.2);
    context.restore();
  }

  function drawFace(context, face, scale, left, top, plates, style) {
    const x = left + face[1] * scale;
    const y = top + face[2] * scale;
    const w = face[3] * scale;
    const h = face[4] * scale;
    const label = face[5];
    if (label < 0) { // not read: a face present, without a guess
      context.strokeStyle = style.unreadColor;
      context.lineWidth = 1;
      context.strokeRect(x, y, w, h);
      return;
    }
    const name = style.classes[label];
    const color = style.colors[name];
    context.strokeStyle = color;
    context.lineWidth = w >= MIN_PLATE_PX ? 2 : 1;
    context.strokeRect(x, y, w, h);
    const text = (face[0] === null ? "" : "#" + face[0] + " ") + name + " " + (face[6] / 100).toFixed(2);
    const size = Math.max(10, Math.min(14, w / 9));
    context.font = size + "px sans-serif";
    const plateW = context.measureText(text).width + 4;
    const plateH = size + 4;
    const place = [y - plateH, y, y + h].map(function (plateTop) { return [x, plateTop, x + plateW, plateTop + plateH]; })
      .find(function (p) { return p[1] >= 0 && !plates.some(function (o) { return p[0] < o[2] && o[0] < p[2] && p[1] < o[3] && o[1] < p[3]; }); });
    if (w < MIN_PLATE_PX || !place) {
      context.fillStyle = color;
      context.beginPath();
      context.arc(x + 4, y + 4, Math.max(2, Math.min(6, w / 6)), 0, 2 * Math.PI);
      context.fill();
      return;
    }
    plates.push(place);
    context.fillStyle = color;
    context.fillRect(place[0], place[1], plateW, plateH);
    context.fillStyle = luminance(color) > 0.55 ? "#000" : "#fff";
    context.textBaseline = "top";
    context.fillText(text, place[0] + 2, place[1] + 2);
  }

  function luminance(hex) {
    const value = parseInt(hex.slice(1), 16);
    return (0.299 * (value >> 16) + 0.587 * ((value >> 8) & 255) + 0.114 * (value & 255)) / 255;
  }

  return { fitCanvas: fitCanvas, blurFace: blurFace, drawFace: drawFace };
})();
