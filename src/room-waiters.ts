// Callers of submit() waiting for room in a bounded queue. The handler wakes them all when room
// appears; each re-checks, and those that find none wait again.

import { abortError } from './map'

export class RoomWaiters {
  readonly #waiting = new Set<() => void>()

  /** Resolves at the next `wakeAll()`, or rejects when `signal` aborts first. */
  wait(signal: AbortSignal | undefined): Promise<void> {
    return new Promise((resolve, reject) => {
      const done = (): void => {
        this.#waiting.delete(done)
        signal?.removeEventListener('abort', onAbort)
        resolve()
      }
      const onAbort = (): void => {
        this.#waiting.delete(done)
        reject(abortError(signal!, 'waiting for room in the queue'))
      }
      this.#waiting.add(done)
      signal?.addEventListener('abort', onAbort, { once: true })
    })
  }

  wakeAll(): void {
    if (this.#waiting.size === 0) return
    for (const done of [...this.#waiting]) done()
  }
}
