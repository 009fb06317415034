// The progress line on stderr: done, failed, rate and, when the input's size is known, an ETA
// from the share of bytes read. Redrawn at most a few times a second, so it costs nothing.

import type { Writable } from 'node:stream'

export interface Counters {
  done: number
  failed: number
  /** Bytes of input read so far. */
  bytesRead: number
}

const REDRAW_MS = 250

function duration(seconds: number): string {
  if (!Number.isFinite(seconds)) return '?'
  if (seconds < 60) return `${seconds.toFixed(seconds < 10 ? 1 : 0)}s`
  const minutes = Math.floor(seconds / 60)
  if (minutes < 60) return `${minutes}m${String(Math.round(seconds % 60)).padStart(2, '0')}s`
  return `${Math.floor(minutes / 60)}h${String(minutes % 60).padStart(2, '0')}m`
}

export class Progress {
  readonly #out: Writable
  readonly #counters: Counters
  readonly #totalBytes: number | undefined
  readonly #started = performance.now()
  readonly #timer: NodeJS.Timeout
  #shown = false

  constructor(out: Writable, counters: Counters, totalBytes: number | undefined) {
    this.#out = out
    this.#counters = counters
    this.#totalBytes = totalBytes
    this.#timer = setInterval(() => this.draw(), REDRAW_MS).unref()
  }

  #line(): string {
    const { done, failed, bytesRead } = this.#counters
    const seconds = (performance.now() - this.#started) / 1000
    const rate = seconds > 0 ? (done + failed) / seconds : 0
    let line = `qdmp: ${done.toLocaleString('en-US')} done, ${failed.toLocaleString('en-US')} failed, ${Math.round(rate).toLocaleString('en-US')}/s`
    if (this.#totalBytes !== undefined && this.#totalBytes > 0) {
      const share = Math.min(1, bytesRead / this.#totalBytes)
      const eta = share > 0 ? (seconds / share) * (1 - share) : Number.POSITIVE_INFINITY
      line += `, ${(share * 100).toFixed(0)}% read, ETA ${duration(eta)}`
    }
    return line
  }

  draw(): void {
    this.#out.write(`\r\x1b[2K${this.#line()}`)
    this.#shown = true
  }

  /** Clears the line (before other output on the same stream). */
  clear(): void {
    if (this.#shown) this.#out.write('\r\x1b[2K')
  }

  /** Stops redrawing and writes the summary. */
  finish(interrupted: boolean): void {
    clearInterval(this.#timer)
    this.clear()
    const { done, failed } = this.#counters
    const seconds = (performance.now() - this.#started) / 1000
    const rate = seconds > 0 ? Math.round((done + failed) / seconds) : 0
    this.#out.write(
      `qdmp: ${interrupted ? 'interrupted: ' : ''}${done.toLocaleString('en-US')} done, ${failed.toLocaleString('en-US')} failed ` +
        `in ${duration(seconds)} (${rate.toLocaleString('en-US')}/s)\n`,
    )
  }
}
