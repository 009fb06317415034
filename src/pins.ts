// Buffers moved to workers instead of copied. The producer keeps each one's memory, untouched,
// under a pin number. A pinned buffer is let go once two things hold: no worker views its memory
// any more (the worker gave the pin back), and its task is finished here (the producer may still
// need to decode the task's arguments, for handleError or a report, until then). A task that
// never reached a worker lets its buffers go as soon as it finishes.
//
// While pinned, the memory is parked outside this thread's heap (keeper.ts): kept here as
// ArrayBuffers, 64 buffers of 1 MiB in flight made V8 scavenge every few milliseconds for the
// external memory they hold (about 270 scavenges per 4,000 tasks, against 15 to 25 for a pool
// whose producer hands its buffers over), and cost the producer a fifth of its time. Parking
// keeps the bytes where they are, so the address the workers view stays valid; the producer
// decodes its own copies of the bytes, through the native core.

import { detach } from './buffer-list'
import { Keeper, type Lot } from './keeper'
import type { Logger } from './logger'
import { NativePool } from './native'

/** What the engine needs of one pinned buffer: where its bytes are, and its pin. */
export interface PinnedBuffer {
  pin: number
  address: number
  length: number
}

/** A pinned buffer: where its bytes are, how many, and the lot holding them. */
interface Parked {
  readonly address: number
  readonly length: number
  readonly lot: Lot | null
}

export class Pins {
  readonly #parked = new Map<number, Parked>()
  readonly #keeper: Keeper
  /** The pins of each live task, and the task of each of its pins. */
  readonly #byTask = new Map<number, number[]>()
  readonly #taskOf = new Map<number, number>()
  /** Pins of live tasks that their worker already gave back. */
  readonly #givenBack = new Set<number>()
  #next = 1

  constructor(logger: Logger) {
    this.#keeper = new Keeper(logger)
  }

  /**
   * Parks `buffer`'s memory (the caller's buffer is detached, as by `postMessage`; nothing is
   * copied) and pins it.
   */
  moveIn(buffer: ArrayBuffer): PinnedBuffer {
    const moved = detach(buffer).buffer
    const length = moved.byteLength
    const address = NativePool.addressOf(moved)
    const pin = this.#next
    this.#next = this.#next === 0xffffffff ? 1 : this.#next + 1
    // An empty buffer has no memory to keep.
    this.#parked.set(pin, { address, length, lot: length > 0 ? this.#keeper.park(moved) : null })
    return { pin, address, length }
  }

  /** The next pins `moveIn` will give, so that they can be encoded before anything is moved. */
  peek(count: number): number[] {
    return Array.from({ length: count }, (_, i) => ((this.#next + i - 1) % 0xffffffff) + 1)
  }

  /** Task `task` owns `pins`. */
  own(task: number, pins: number[]): void {
    if (pins.length === 0) return
    this.#byTask.set(task, pins)
    for (const pin of pins) this.#taskOf.set(pin, task)
  }

  /**
   * Copies of the pinned buffers, to decode a moved value in this thread. Copies, because what
   * the decoded value becomes (an argument handed to a hook, say) may outlive the pin.
   */
  readonly resolve = (pins: number[]): ArrayBuffer[] =>
    pins.map((pin) => {
      const parked = this.#parked.get(pin)
      if (parked === undefined) throw new Error(`internal: pin ${pin} was released`)
      const copy = new Uint8Array(parked.length)
      NativePool.copyPinned(parked.address, copy)
      return copy.buffer
    })

  /** A worker gave `pin` back: no view of its memory is left in that worker. */
  givenBack(pin: number): void {
    if (this.#taskOf.has(pin)) this.#givenBack.add(pin)
    else this.#letGo(pin)
  }

  /** Task `task` is finished here; `reachedWorker` says whether a worker was ever handed it. */
  finished(task: number, reachedWorker: boolean): void {
    const pins = this.#byTask.get(task)
    if (pins === undefined) return
    this.#byTask.delete(task)
    for (const pin of pins) {
      this.#taskOf.delete(pin)
      if (!reachedWorker || this.#givenBack.delete(pin)) this.#letGo(pin)
      // else: its worker gives it back later, and givenBack() lets it go then
    }
  }

  /** Lets every buffer go: only once no worker can still view one (all have exited). */
  clear(): void {
    this.#keeper.close()
    this.#parked.clear()
    this.#byTask.clear()
    this.#taskOf.clear()
    this.#givenBack.clear()
  }

  get size(): number {
    return this.#parked.size
  }

  #letGo(pin: number): void {
    const parked = this.#parked.get(pin)
    if (parked === undefined) return
    this.#parked.delete(pin)
    if (parked.lot !== null) this.#keeper.letGo(parked.lot)
  }
}
