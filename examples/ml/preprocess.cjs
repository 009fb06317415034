// The per-item work of the demo, as a worker target: each export takes one item and returns its
// model-ready form. Pure functions of their argument, so the demo can check that the pool and
// the single-thread run produce the same tensors. CommonJS, so that every pool of the benchmarks
// can load it too.
const jpeg = require('jpeg-js')
const { move } = require('qdmp')
let encoder

/** BPE tokenization (GPT-4o's o200k vocabulary): a text chunk to its token ids. */
function tokenize(text) {
  encoder ??= require('gpt-tokenizer/encoding/o200k_base')
  return Uint32Array.from(encoder.encode(text))
}

const SIZE = 224
const MEAN = [0.485, 0.456, 0.406]
const STD = [0.229, 0.224, 0.225]

/**
 * A JPEG file to a model input: decode, resize (bilinear) to 224×224, scale to [0, 1] and
 * normalize with the ImageNet mean and deviation per channel, laid out channels-first (CHW).
 */
function imageToTensor(bytes) {
  const { width, height, data } = jpeg.decode(bytes, { useTArray: true, formatAsRGBA: true })
  const out = new Float32Array(3 * SIZE * SIZE)
  const plane = SIZE * SIZE
  const sx = width / SIZE
  const sy = height / SIZE
  for (let y = 0; y < SIZE; y++) {
    const fy = Math.max(0, (y + 0.5) * sy - 0.5)
    const y0 = Math.min(height - 1, Math.floor(fy))
    const y1 = Math.min(height - 1, y0 + 1)
    const wy = fy - y0
    for (let x = 0; x < SIZE; x++) {
      const fx = Math.max(0, (x + 0.5) * sx - 0.5)
      const x0 = Math.min(width - 1, Math.floor(fx))
      const x1 = Math.min(width - 1, x0 + 1)
      const wx = fx - x0
      const a = (y0 * width + x0) * 4
      const b = (y0 * width + x1) * 4
      const c = (y1 * width + x0) * 4
      const d = (y1 * width + x1) * 4
      for (let ch = 0; ch < 3; ch++) {
        const top = data[a + ch] + (data[b + ch] - data[a + ch]) * wx
        const bottom = data[c + ch] + (data[d + ch] - data[c + ch]) * wx
        const value = (top + (bottom - top) * wy) / 255
        out[ch * plane + y * SIZE + x] = (value - MEAN[ch]) / STD[ch]
      }
    }
  }
  return out
}

/** The worker target: the tensor moved back to the producer, not copied (see `move`). */
function imageToMovedTensor(bytes) {
  return move(imageToTensor(bytes))
}

module.exports = { tokenize, imageToTensor, imageToMovedTensor, SIZE }
