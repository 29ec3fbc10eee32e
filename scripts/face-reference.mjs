// face-reference.mjs — computes the reference descriptors of the face-model
// fixture with the npm package's own TensorFlow.js (CPU backend), once, at
// fixture-creation time. A developer runs it; CI does not (the Go test
// internal/faceid TestModelMatchesTFJS compares the converted ONNX model,
// run by OpenCV, with its output).
//
//   npm pack @vladmandic/face-api@1.7.15 && tar xzf vladmandic-face-api-1.7.15.tgz
//   node scripts/face-reference.mjs package testdata/faceid > testdata/faceid/reference.json
//
// Inputs: every 150x150 binary PPM (P6) in the fixture directory (aligned
// face chips written by `go test ./internal/faceid -run TestFixtureChips
// -update`) and a synthetic pattern both sides generate (pattern()).
import { readFileSync, readdirSync } from 'node:fs';
import { createHash } from 'node:crypto';
import { join, resolve } from 'node:path';

const [pkgDir, fixtureDir] = process.argv.slice(2);
if (!pkgDir || !fixtureDir) {
  console.error('usage: node scripts/face-reference.mjs PACKAGE_DIR FIXTURE_DIR > reference.json');
  process.exit(2);
}

// The ESM bundle picks its platform at import: present it as a browser, so it
// uses the global TextEncoder and fetch instead of node's util stubs.
globalThis.window = globalThis;
globalThis.document = {};
const faceapi = await import(resolve(pkgDir, 'dist', 'face-api.esm.js'));
const tf = faceapi.tf;
await tf.setBackend('cpu');
await tf.ready();

const pkg = JSON.parse(readFileSync(join(pkgDir, 'package.json'), 'utf8'));
const manifest = JSON.parse(readFileSync(join(pkgDir, 'model', 'face_recognition_model-weights_manifest.json'), 'utf8'));
const specs = manifest.flatMap((g) => g.weights);
const shards = manifest.flatMap((g) => g.paths.map((p) => readFileSync(join(pkgDir, 'model', p))));
const all = Buffer.concat(shards);
const weights = tf.io.decodeWeights(all.buffer.slice(all.byteOffset, all.byteOffset + all.length), specs);
const net = faceapi.nets.faceRecognitionNet;
net.loadFromWeightMap(weights);

const SIZE = 150;

// pattern is a deterministic 150x150 RGB test image (internal/faceid's
// fixture test draws the same one).
function pattern() {
  const b = new Uint8Array(SIZE * SIZE * 3);
  for (let y = 0; y < SIZE; y++) {
    for (let x = 0; x < SIZE; x++) {
      const i = (y * SIZE + x) * 3;
      b[i] = (x * 7 + y * 3) & 255;
      b[i + 1] = (x * 2 + y * 11 + 80) & 255;
      b[i + 2] = (((x - 75) * (x - 75) + (y - 75) * (y - 75)) >> 4) & 255;
    }
  }
  return b;
}

function readPPM(path) {
  const buf = readFileSync(path);
  const header = buf.subarray(0, 32).toString('latin1').match(/^P6\s+(\d+)\s+(\d+)\s+255\s/);
  if (!header || +header[1] !== SIZE || +header[2] !== SIZE) throw new Error(`${path}: not a ${SIZE}x${SIZE} P6 PPM`);
  const data = buf.subarray(header[0].length);
  if (data.length !== SIZE * SIZE * 3) throw new Error(`${path}: ${data.length} bytes of pixels`);
  return new Uint8Array(data);
}

const inputs = [{ name: 'pattern', rgb: pattern() }];
for (const f of readdirSync(fixtureDir).filter((f) => f.endsWith('.ppm')).sort()) {
  inputs.push({ name: f, rgb: readPPM(join(fixtureDir, f)) });
}

const out = [];
for (const { name, rgb } of inputs) {
  const t = tf.tensor3d(Float32Array.from(rgb), [SIZE, SIZE, 3], 'float32');
  const d = await net.computeFaceDescriptor(t);
  t.dispose();
  out.push({ name, rgb_sha256: createHash('sha256').update(rgb).digest('hex'), descriptor: Array.from(d) });
}
process.stdout.write(JSON.stringify({
  package: `${pkg.name}@${pkg.version}`,
  tfjs: tf.version_core,
  backend: tf.getBackend(),
  inputs: out,
}, null, 1) + '\n');
