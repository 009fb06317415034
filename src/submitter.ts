// Turns the user's task arguments into engine tasks: validateArgs, cloning, batched submission.
// A rejected argument never stops the others; the call reports it afterwards.

import { ByteWriter } from './codec'
import { encodeTransfer } from './transfer-codec'
import { describeValue } from './describe'
import { ErrorCode, fromNative, QdmpError, type QdmpErrorCode, QdmpTypeError } from './errors'
import type { Logger } from './logger'
import type { NativePoolType } from './native'
import type { Pins } from './pins'

/** Arguments per native submit call: amortises the call without delaying the first tasks. */
const BATCH_TASKS = 1024
const BATCH_BYTES = 1 << 20

/** A rejected argument of one `addTasks` call. */
export interface RejectedArgument {
  /** Its position in the arguments given to the call. */
  index: number
  /** Why: `ERR_QDMP_DATA_CLONE` (it cannot be cloned) or `ERR_QDMP_HOOK_FAILED` (`validateArgs` threw). */
  code: QdmpErrorCode
  /** The error that refused it. */
  error: unknown
}

/** What became of one offered argument. */
export type Offered = { id: number } | Refused

/** An offered argument that was not queued. */
export type Refused = { discarded: true } | { rejected: RejectedArgument }

/**
 * What became of a batch of offered arguments: those not in `refused` (by position) were
 * queued, in order, with consecutive ids from `first`. No object per queued task: on an endless
 * map() every allocation that outlives a scavenge grows V8's young generation (id-table.ts).
 */
export interface OfferedBatch {
  first: number
  refused: Map<number, Refused> | null
}

/** What became of the argument at `index` of an offered batch (`queuedBefore`: how many before it were queued). */
export function offeredAt(batch: OfferedBatch, index: number, queuedBefore: number): Offered {
  return batch.refused?.get(index) ?? { id: batch.first + queuedBefore }
}

export class Submitter<A> {
  readonly #native: NativePoolType
  readonly #validateArgs: ((args: A) => unknown) | undefined
  readonly #logger: Logger
  readonly #writer = new ByteWriter()
  /** Buffers moved to workers; `null` when workers are processes (which cannot view them). */
  readonly #pins: Pins | null
  #warned = false
  /** The id of the last task accepted (ids are consecutive). */
  lastTaskId = 0

  constructor(native: NativePoolType, validateArgs: ((args: A) => unknown) | undefined, logger: Logger, pins: Pins | null) {
    this.#native = native
    this.#validateArgs = validateArgs
    this.#logger = logger
    this.#pins = pins
  }

  /**
   * Offers one argument whose `transfer` buffers are moved, not copied: they are detached here
   * (as by `postMessage`) and arrive intact. Worker threads view them in place; child processes,
   * which cannot, get a copy. Nothing is moved when the argument is discarded or rejected.
   */
  offerMoved(args: A, transfer: readonly ArrayBuffer[]): Offered {
    const rejected: RejectedArgument[] = []
    if (!this.#validate(args, 0, rejected)) return rejected.length > 0 ? { rejected: rejected[0]! } : { discarded: true }
    let bytes: Buffer
    const pins = this.#pins
    try {
      bytes = pins === null ? encodeCopy(args) : encodeTransfer(args, transfer, pins.peek(transfer.length))
    } catch (error) {
      return { rejected: { index: 0, code: ErrorCode.DataClone, error } }
    }
    let first: number
    try {
      if (pins === null) {
        for (const buffer of transfer) structuredClone(buffer, { transfer: [buffer] }) // detach: moved semantics
        first = this.#native.submit(bytes, Uint32Array.of(bytes.length), 1)
      } else {
        const moved = transfer.map((buffer) => pins.moveIn(buffer))
        // Reused arrays: a fresh small typed array costs an allocation and GC pressure once the
        // native side asks V8 for its memory, which is most of the cost of a call this small.
        const scratch = this.#scratch(moved.length)
        moved.forEach(({ pin, address, length }, i) => scratch.attachments.set([address, length, pin], 3 * i))
        scratch.ends[0] = bytes.length
        scratch.attachmentEnds[0] = moved.length
        first = this.#native.submitAttached(bytes, scratch.ends, 1, scratch.attachments, scratch.attachmentEnds)
        pins.own(first, moved.map(({ pin }) => pin))
      }
    } catch (error) {
      throw fromNative(error)
    }
    this.lastTaskId = first
    return { id: first }
  }

  #scratchArrays = { ends: new Uint32Array(1), attachments: new Float64Array(3 * 8), attachmentEnds: new Uint32Array(1) }

  /** The arrays of one moved task's native call, with room for `count` attachments. */
  #scratch(count: number): { ends: Uint32Array; attachments: Float64Array; attachmentEnds: Uint32Array } {
    if (this.#scratchArrays.attachments.length < 3 * count) this.#scratchArrays.attachments = new Float64Array(3 * count)
    return this.#scratchArrays
  }

  /** How many more tasks the bounded queue takes now (`Infinity` without `maxQueue`). */
  room(): number {
    return this.#native.room()
  }

  /**
   * The shared writer, or a fresh one while it is in use: a validateArgs hook may itself submit
   * (`handler.submit()` in the hook), and must not wipe the batch being encoded around it.
   */
  #takeWriter(): ByteWriter {
    if (this.#writerInUse) return new ByteWriter(1024)
    this.#writerInUse = true
    this.#writer.reset()
    return this.#writer
  }

  #giveBack(writer: ByteWriter): void {
    writer.reset()
    if (writer === this.#writer) this.#writerInUse = false
  }

  #writerInUse = false

  /**
   * Validates, encodes and queues the first `count` of `items` in one batch. The caller makes
   * sure the bounded queue has room for all of them.
   */
  offer(items: readonly A[], count = items.length): OfferedBatch {
    const writer = this.#takeWriter()
    try {
      return this.#offerWith(writer, items, count)
    } finally {
      this.#giveBack(writer)
    }
  }

  #offerWith(writer: ByteWriter, items: readonly A[], count: number): OfferedBatch {
    let refused: Map<number, Refused> | null = null
    const rejected: RejectedArgument[] = []
    for (let index = 0; index < count; index++) {
      const args = items[index]!
      const before = rejected.length
      if (!this.#validate(args, index, rejected)) {
        ;(refused ??= new Map()).set(index, rejected.length > before ? { rejected: rejected[before]! } : { discarded: true })
        continue
      }
      try {
        writer.add(args)
      } catch (error) {
        ;(refused ??= new Map()).set(index, { rejected: { index, code: ErrorCode.DataClone, error } })
      }
    }
    const accepted = writer.count
    let first: number
    try {
      first = this.#native.submit(writer.bytes(), writer.ends(), count)
    } catch (error) {
      throw fromNative(error)
    }
    if (accepted > 0) this.lastTaskId = first + accepted - 1
    return { first, refused }
  }

  /** Validates, encodes and queues every argument; see `Handler.addTasks`. */
  add(tasks: Iterable<A>): number {
    if (tasks === null || typeof tasks !== 'object' || typeof (tasks as Iterable<A>)[Symbol.iterator] !== 'function') {
      throw new QdmpTypeError(
        ErrorCode.InvalidArgument,
        `addTasks() takes an iterable of task arguments (an array, Set, generator...), got ${describeValue(tasks)}; ` +
          `to add a single task, wrap it: addTasks([args])`,
      )
    }
    const rejected: RejectedArgument[] = []
    let accepted = 0
    let offered = 0
    let index = 0
    // The room can only grow while this runs (workers take tasks, only this thread adds them).
    let room = this.#native.room()
    const flush = (): void => {
      if (offered === 0) return
      let first: number
      try {
        first = this.#native.submit(writer.bytes(), writer.ends(), offered)
      } catch (error) {
        throw fromNative(error)
      }
      if (writer.count > 0) this.lastTaskId = first + writer.count - 1
      accepted += writer.count
      writer.reset()
      offered = 0
    }
    let unqueued: { value: A } | undefined
    const iterator = (tasks as Iterable<A>)[Symbol.iterator]()
    const writer = this.#takeWriter()
    try {
      for (;;) {
        const step = iterator.next()
        if (step.done === true) break
        if (accepted + writer.count >= room) {
          flush()
          room = accepted + this.#native.room()
          if (accepted >= room) {
            // Full, with more to add: the pulled argument goes back to the caller on the error.
            unqueued = { value: step.value }
            iterator.return?.()
            break
          }
        }
        const args = step.value
        const at = index++
        offered++
        if (!this.#validate(args, at, rejected)) continue
        try {
          writer.add(args)
        } catch (error) {
          rejected.push({ index: at, code: ErrorCode.DataClone, error })
        }
        if (writer.count >= BATCH_TASKS || writer.length >= BATCH_BYTES) flush()
      }
    } finally {
      try {
        flush()
      } finally {
        this.#giveBack(writer)
      }
    }
    if (unqueued !== undefined) throw queueFullError(accepted, index, unqueued.value)
    if (rejected.length > 0) throw rejectedError(rejected, accepted)
    return accepted
  }

  #validate(args: A, index: number, rejected: RejectedArgument[]): boolean {
    if (this.#validateArgs === undefined) return true
    let ok: unknown
    try {
      ok = this.#validateArgs(args)
    } catch (error) {
      rejected.push({ index, code: ErrorCode.HookFailed, error })
      return false
    }
    if (typeof ok !== 'boolean' && !this.#warned) {
      this.#warned = true
      this.#logger.warn(`validateArgs returned ${describeValue(ok)}, not a boolean; its truthiness decides (warned once)`)
    }
    return Boolean(ok)
  }
}

function encodeCopy(value: unknown): Buffer {
  const writer = new ByteWriter(64)
  writer.add(value)
  return Buffer.from(writer.bytes())
}

function queueFullError(accepted: number, index: number, unqueued: unknown): QdmpError {
  return new QdmpError(
    ErrorCode.QueueFull,
    `addTasks(): the queue is full (options.maxQueue); ${accepted} argument(s) were accepted, from index ${index} ` +
      `on none were (the argument at ${index} is error.unqueued; an iterator's later ones are still in it). ` +
      `Use \`await handler.submit(args)\` to wait for room, or raise maxQueue.`,
    { accepted, index, unqueued },
  )
}

/** Why an argument was refused, to follow "the argument(s) ...". */
export function refusedBecause(rejected: RejectedArgument): string {
  return rejected.code === ErrorCode.DataClone
    ? `cannot be cloned (${String((rejected.error as Error)?.message).replace(/\.$/, '')}); task arguments must be structured-cloneable: no functions, symbols, WeakMaps or native handles (a class instance arrives as a plain object of its own fields)`
    : `made validateArgs throw (${describeValue(rejected.error)})`
}

function rejectedError(rejected: RejectedArgument[], accepted: number): QdmpError {
  const first = rejected[0]!
  const why = refusedBecause(first)
  const more = rejected.length > 1 ? ` (and ${rejected.length - 1} more, listed in error.rejected)` : ''
  return new QdmpError(
    first.code,
    `addTasks(): the argument at index ${first.index} ${why}; it was not queued${more}. ` +
      `The other ${accepted} argument(s) were accepted.`,
    { index: first.index, rejected, accepted, cause: first.error },
  )
}
