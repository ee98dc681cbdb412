// The server engine's per-frame front half, in the browser: CenterFace finds the faces, each face's square crop
// becomes the 48x48 grey image the classifier reads, its brightness, contrast and sharpness are measured, and the
// classifier's calibrated probabilities are read (onnxruntime-web, WebAssembly). Every step follows the Python code
// it mirrors (named at each function) so the server can treat the numbers as its own; the parity test
// (tests/pages/test_browser_engine.py) runs the same frames through both.
// A face leaves as one row of 25 numbers (fer.engine.observations): box, score, landmarks, signals, probabilities.
"use strict";

const FaceEngine = (function () {
  const STRIDE = 4; // CenterFace's output maps are 1/4 of its input (fer.engine.detection)
  const ALIGN = 32; // its input sides are multiples of this
  const INPUT = 48; // the classifier's input (fer.engine.preprocess)
  const MIN_STD = 1e-2;
  const NOSE_DEPTH = 0.6; // fer.engine.readability

  function roundHalfEven(value) { // numpy's and OpenCV's rounding
    const rounded = Math.round(value);
    return Math.abs(value % 1) === 0.5 && rounded % 2 !== 0 ? rounded - 1 : rounded;
  }

  function detectorInput(rgba, width, height, scale) {
    // detection._to_blob: the frame resized by `scale` as cv2.INTER_AREA does, RGB planes, zero-padded to
    // multiples of 32; returns the blob, its padded size and the size of the picture in it
    const w = scale === 1 ? width : Math.max(1, roundHalfEven(width * scale));
    const h = scale === 1 ? height : Math.max(1, roundHalfEven(height * scale));
    const paddedH = Math.ceil(h / ALIGN) * ALIGN;
    const paddedW = Math.ceil(w / ALIGN) * ALIGN;
    const plane = paddedH * paddedW;
    const blob = new Float32Array(3 * plane);
    if (scale === 1) {
      for (let y = 0; y < h; y++) {
        for (let x = 0; x < w; x++) {
          const source = (y * width + x) * 4;
          const target = y * paddedW + x;
          blob[target] = rgba[source];
          blob[plane + target] = rgba[source + 1];
          blob[2 * plane + target] = rgba[source + 2];
        }
      }
      return { blob: blob, height: paddedH, width: paddedW };
    }
    const across = areaWeights(width, w); // separable: along each row first, then down the columns
    const down = areaWeights(height, h);
    const rows = new Float64Array(height * w * 3);
    for (let y = 0; y < height; y++) {
      for (let x = 0; x < w; x++) {
        let r = 0, g = 0, b = 0;
        for (const [sx, weight] of across[x]) {
          const j = (y * width + sx) * 4;
          r += weight * rgba[j]; g += weight * rgba[j + 1]; b += weight * rgba[j + 2];
        }
        const k = (y * w + x) * 3;
        rows[k] = r; rows[k + 1] = g; rows[k + 2] = b;
      }
    }
    for (let y = 0; y < h; y++) {
      for (let x = 0; x < w; x++) {
        let r = 0, g = 0, b = 0;
        for (const [sy, weight] of down[y]) {
          const k = (sy * w + x) * 3;
          r += weight * rows[k]; g += weight * rows[k + 1]; b += weight * rows[k + 2];
        }
        const target = y * paddedW + x; // 8-bit pixels, as cv2.resize gives them
        blob[target] = Math.min(255, roundHalfEven(r));
        blob[plane + target] = Math.min(255, roundHalfEven(g));
        blob[2 * plane + target] = Math.min(255, roundHalfEven(b));
      }
    }
    return { blob: blob, height: paddedH, width: paddedW };
  }

  function decode(outputs, threshold) { // detection._decode: peaks above threshold -> boxes, scores, landmarks
    const [heatmap, sizes, offsets, landmarks] = outputs;
    const mapH = heatmap.dims[2];
    const mapW = heatmap.dims[3];
    const cells = mapH * mapW;
    const found = [];
    for (let cell = 0; cell < cells; cell++) {
      const score = heatmap.data[cell];
      if (!(score > threshold)) { continue; }
      const row = Math.floor(cell / mapW);
      const column = cell % mapW;
      const h = Math.exp(sizes.data[cell]) * STRIDE;
      const w = Math.exp(sizes.data[cells + cell]) * STRIDE;
      const centreY = (row + offsets.data[cell] + 0.5) * STRIDE;
      const centreX = (column + offsets.data[cells + cell] + 0.5) * STRIDE;
      const box = [centreX - w / 2, centreY - h / 2, centreX + w / 2, centreY + h / 2];
      const points = [];
      for (let k = 0; k < 5; k++) {
        points.push(box[0] + landmarks.data[(2 * k + 1) * cells + cell] * w, box[1] + landmarks.data[2 * k * cells + cell] * h);
      }
      found.push({ box: box, score: score, points: points });
    }
    return found;
  }

  function nms(found, threshold, maxIou) { // cv2.dnn.NMSBoxes: best score first, drop boxes overlapping a kept one
    const order = found.filter(function (f) { return f.score > threshold; })
      .sort(function (a, b) { return b.score - a.score; });
    const kept = [];
    for (const candidate of order) {
      if (kept.every(function (k) { return iou(k.box, candidate.box) <= maxIou; })) { kept.push(candidate); }
    }
    return kept;
  }

  function iou(a, b) {
    const w = Math.min(a[2], b[2]) - Math.max(a[0], b[0]);
    const h = Math.min(a[3], b[3]) - Math.max(a[1], b[1]);
    if (w <= 0 || h <= 0) { return 0; }
    const inter = w * h;
    return inter / ((a[2] - a[0]) * (a[3] - a[1]) + (b[2] - b[0]) * (b[3] - b[1]) - inter);
  }

  function squareCrop(rgba, width, height, box, margin) { // crops.square_boxes + crops.face_crops, grey
    // grey as cv2.COLOR_BGR2GRAY on 8-bit pixels (OpenCV's fixed point), only where a crop reads it
    const centreX = (box[0] + box[2]) / 2;
    const centreY = (box[1] + box[3]) / 2;
    const side = Math.max(roundHalfEven(Math.max(box[2] - box[0], box[3] - box[1]) * (1 + 2 * margin)), 2);
    const left = roundHalfEven(centreX - side / 2);
    const top = roundHalfEven(centreY - side / 2);
    const crop = new Uint8Array(side * side);
    for (let y = 0; y < side; y++) {
      const row = Math.min(Math.max(top + y, 0), height - 1) * width;
      for (let x = 0; x < side; x++) {
        const j = (row + Math.min(Math.max(left + x, 0), width - 1)) * 4;
        crop[y * side + x] = (rgba[j] * 4899 + rgba[j + 1] * 9617 + rgba[j + 2] * 1868 + 8192) >> 14;
      }
    }
    return { pixels: crop, side: side };
  }

  function areaWeights(source, target) { // cv2.INTER_AREA: each output pixel averages the input pixels it covers
    const scale = source / target;
    const weights = [];
    for (let d = 0; d < target; d++) {
      const start = d * scale;
      const end = start + scale;
      const taps = [];
      for (let s = Math.floor(start); s < Math.min(Math.ceil(end), source); s++) {
        const cover = Math.min(end, s + 1) - Math.max(start, s);
        if (cover > 1e-9) { taps.push([s, cover / scale]); }
      }
      weights.push(taps);
    }
    return weights;
  }

  function linearWeights(source, target) { // cv2.INTER_LINEAR: half-pixel centres, edges clamped
    const scale = source / target;
    const weights = [];
    for (let d = 0; d < target; d++) {
      let position = (d + 0.5) * scale - 0.5;
      let s = Math.floor(position);
      let fraction = position - s;
      if (s < 0) { s = 0; fraction = 0; }
      if (s >= source - 1) { s = source - 1; fraction = 0; }
      weights.push(fraction > 0 ? [[s, 1 - fraction], [s + 1, fraction]] : [[s, 1]]);
    }
    return weights;
  }

  function toGrey48(crop) { // preprocess.to_gray48: INTER_AREA when shrinking, INTER_LINEAR when enlarging
    const side = crop.side;
    if (side === INPUT) { return crop.pixels; }
    const weights = side > INPUT ? areaWeights(side, INPUT) : linearWeights(side, INPUT);
    const out = new Uint8Array(INPUT * INPUT);
    for (let y = 0; y < INPUT; y++) {
      for (let x = 0; x < INPUT; x++) {
        let sum = 0;
        for (const [sy, wy] of weights[y]) {
          for (const [sx, wx] of weights[x]) { sum += wy * wx * crop.pixels[sy * side + sx]; }
        }
        out[y * INPUT + x] = Math.min(255, Math.max(0, roundHalfEven(sum)));
      }
    }
    return out;
  }

  function signals(face48) { // readability.image_signals: brightness, contrast, sharpness (Laplacian variance)
    const n = INPUT * INPUT;
    let sum = 0;
    for (let i = 0; i < n; i++) { sum += face48[i]; }
    const brightness = sum / n;
    let squares = 0;
    for (let i = 0; i < n; i++) { squares += (face48[i] - brightness) ** 2; }
    const contrast = Math.sqrt(squares / n);
    const scale = Math.max(contrast, 1);
    const at = function (y, x) { // BORDER_REFLECT_101
      const yy = y < 0 ? -y : y >= INPUT ? 2 * INPUT - 2 - y : y;
      const xx = x < 0 ? -x : x >= INPUT ? 2 * INPUT - 2 - x : x;
      return face48[yy * INPUT + xx] / scale;
    };
    let lapSum = 0;
    let lapSquares = 0;
    for (let y = 0; y < INPUT; y++) {
      for (let x = 0; x < INPUT; x++) {
        const value = at(y - 1, x) + at(y + 1, x) + at(y, x - 1) + at(y, x + 1) - 4 * at(y, x);
        lapSum += value;
        lapSquares += value * value;
      }
    }
    const lapMean = lapSum / n;
    return [brightness, contrast, Math.max(0, lapSquares / n - lapMean * lapMean)];
  }

  function standardized(faces48) { // preprocess.standardize: per face zero mean, unit std -> (N, 48, 48, 1)
    const n = INPUT * INPUT;
    const batch = new Float32Array(faces48.length * n);
    faces48.forEach(function (face, index) {
      let sum = 0;
      for (let i = 0; i < n; i++) { sum += face[i] / 255; }
      const mean = sum / n;
      let squares = 0;
      for (let i = 0; i < n; i++) { squares += (face[i] / 255 - mean) ** 2; }
      const std = Math.max(Math.sqrt(squares / n), MIN_STD);
      for (let i = 0; i < n; i++) { batch[index * n + i] = (face[i] / 255 - mean) / std; }
    });
    return batch;
  }

  function calibrated(probabilities, temperature) { // classifier.calibrated: softmax(log p / T) per row
    let total = 0;
    for (const p of probabilities) { total += p; }
    const logits = probabilities.map(function (p) { return Math.log(Math.max(p / total, 1e-12)) / temperature; });
    const top = Math.max.apply(null, logits);
    const scaled = logits.map(function (l) { return Math.exp(l - top); });
    const sum = scaled.reduce(function (a, b) { return a + b; }, 0);
    return scaled.map(function (s) { return s / sum; });
  }

  function pose(points, config) { // readability.pose_angles and roll_angles: yaw, pitch, roll in degrees
    const [lx, ly, rx, ry, nx, ny, mlx, mly, mrx, mry] = points;
    const eyeMid = [(lx + rx) / 2, (ly + ry) / 2];
    const mouthMid = [(mlx + mrx) / 2, (mly + mry) / 2];
    const eye = [rx - lx, ry - ly];
    const eyeDistance = Math.max(Math.hypot(eye[0], eye[1]), 1e-6);
    const across = [eye[0] / eyeDistance, eye[1] / eyeDistance];
    const down = [-across[1], across[0]];
    const dot = function (a, b) { return a[0] * b[0] + a[1] * b[1]; };
    const height = Math.max(dot([mouthMid[0] - eyeMid[0], mouthMid[1] - eyeMid[1]], down), 1e-6);
    const midline = [(eyeMid[0] + mouthMid[0]) / 2, (eyeMid[1] + mouthMid[1]) / 2];
    const sideways = dot([nx - midline[0], ny - midline[1]], across) / eyeDistance;
    const noseHeight = dot([nx - eyeMid[0], ny - eyeMid[1]], down) / height;
    const degrees = 180 / Math.PI;
    return {
      yaw: Math.atan(sideways / NOSE_DEPTH) * degrees,
      pitch: Math.atan((noseHeight - config.frontal_nose_height) / (NOSE_DEPTH * config.frontal_eye_over_height)) * degrees,
      roll: Math.atan2(eye[1], eye[0]) * degrees,
    };
  }

  function readable(row, margin, config) { // ReadabilityFilter.assess + mark_uncertain, for drawing the overlay
    const cropPx = Math.max(row[2] - row[0], row[3] - row[1]) * (1 + 2 * margin);
    const angles = pose(row.slice(5, 15), config);
    const top = Math.max.apply(null, row.slice(18));
    return cropPx >= config.min_face_px
      && Math.abs(angles.yaw) <= config.max_abs_yaw_deg && Math.abs(angles.roll) <= config.max_abs_roll_deg
      && angles.pitch >= config.min_pitch_deg && angles.pitch <= config.max_pitch_deg
      && row[17] >= config.min_sharpness && row[16] >= config.min_contrast
      && top >= config.uncertain_below;
  }

  async function create(ort, options) {
    const detector = await ort.InferenceSession.create(options.detectorUrl, { executionProviders: ["wasm"] });
    const classifier = await ort.InferenceSession.create(options.classifierUrl, { executionProviders: ["wasm"] });

    // The faces found on a frame resized by `scale`: boxes and landmarks in the frame's pixels.
    async function detect(rgba, width, height, scale) {
      const input = detectorInput(rgba, width, height, scale);
      const feeds = {};
      feeds[detector.inputNames[0]] = new ort.Tensor("float32", input.blob, [1, 3, input.height, input.width]);
      const results = await detector.run(feeds);
      const outputs = detector.outputNames.map(function (name) { return results[name]; });
      return nms(decode(outputs, options.threshold), options.threshold, options.nmsIou).map(function (face) {
        const box = face.box.map(function (v) { return v / scale; });
        box[0] = Math.min(Math.max(box[0], 0), width);
        box[2] = Math.min(Math.max(box[2], 0), width);
        box[1] = Math.min(Math.max(box[1], 0), height);
        box[3] = Math.min(Math.max(box[3], 0), height);
        return { box: box, score: face.score, points: face.points.map(function (v) { return v / scale; }) };
      }).filter(function (face) { return face.box[2] > face.box[0] && face.box[3] > face.box[1]; });
    }

    async function classify(faces48) {
      if (!faces48.length) { return []; }
      const feeds = {};
      feeds[classifier.inputNames[0]] = new ort.Tensor("float32", standardized(faces48), [faces48.length, INPUT, INPUT, 1]);
      const output = (await classifier.run(feeds))[classifier.outputNames[0]].data;
      const rows = [];
      for (let i = 0; i < faces48.length; i++) {
        rows.push(calibrated(Array.from(output.slice(i * 7, i * 7 + 7)), options.temperature));
      }
      return rows;
    }

    // The faces of one frame (its RGBA pixels) -> their rows: each face's crop read from this frame.
    async function read(rgba, width, height, faces) {
      const faces48 = faces.map(function (face) { return toGrey48(squareCrop(rgba, width, height, face.box, options.margin)); });
      const probabilities = await classify(faces48);
      return faces.map(function (face, i) {
        return face.box.concat([face.score], face.points, signals(faces48[i]), probabilities[i]);
      });
    }

    return { detect: detect, read: read };
  }

  return { create: create, readable: readable, iou: iou };
})();
