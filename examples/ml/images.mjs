// JPEG images for the demo. No photographs ship with Node or npm packages, so the demo renders a
// set of scenes (gradients, discs, stripes and noise, like textures and objects in a photo) and
// encodes them as real baseline JPEGs with jpeg-js, once, before anything is timed; the timed
// work decodes those files as it would files from disk.
import { createRequire } from 'node:module'

const require = createRequire(import.meta.url)
const jpeg = require('jpeg-js')

/** A deterministic pseudo-random generator, so every run encodes the same images. */
function random(seed) {
  let state = seed >>> 0 || 1
  return () => {
    state ^= state << 13
    state ^= state >>> 17
    state ^= state << 5
    return (state >>> 0) / 2 ** 32
  }
}

function scene(width, height, seed) {
  const rand = random(seed)
  const data = new Uint8Array(width * height * 4)
  const discs = Array.from({ length: 6 }, () => ({ x: rand() * width, y: rand() * height, r: 20 + rand() * 120, color: [rand(), rand(), rand()].map((c) => c * 255) }))
  const [r0, g0, b0] = [rand() * 255, rand() * 255, rand() * 255]
  const stripes = 8 + rand() * 40
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      let r = r0 * (x / width) + 40 * Math.sin(y / stripes)
      let g = g0 * (y / height)
      let b = b0 * (1 - x / width)
      for (const disc of discs) {
        if ((x - disc.x) ** 2 + (y - disc.y) ** 2 < disc.r ** 2) [r, g, b] = disc.color
      }
      const noise = (rand() - 0.5) * 30
      const i = (y * width + x) * 4
      data[i] = Math.max(0, Math.min(255, r + noise))
      data[i + 1] = Math.max(0, Math.min(255, g + noise))
      data[i + 2] = Math.max(0, Math.min(255, b + noise))
      data[i + 3] = 255
    }
  }
  return { width, height, data }
}

/** `count` JPEG files (as bytes) of sizes typical of a photo dataset, 640×480 to 1024×768. */
export function makeImages(count) {
  const sizes = [[640, 480], [800, 600], [1024, 768], [720, 540]]
  return Array.from({ length: count }, (_, i) => {
    const [width, height] = sizes[i % sizes.length]
    return new Uint8Array(jpeg.encode(scene(width, height, i + 1), 85).data)
  })
}
