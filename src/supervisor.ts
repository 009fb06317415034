// Keeps a handler's worker slots filled: starts the workers, tells the engine when one exits (so
// that its task settles), and replaces workers that die unexpectedly, backing off when the
// replacements themselves keep failing to start.

import { ErrorCode, QdmpError } from './errors'
import type { Logger } from './logger'
import type { NativePoolType } from './native'

/** How a worker ended. */
export interface WorkerExit {
  /** The exit code, when it exited by itself (1 after an uncaught error). */
  code: number | null
  /** The signal that killed it (child processes). */
  signal: string | null
  /** The uncaught error that ended it, if any. */
  error?: unknown
}

/** A running worker, thread or process, as the supervisor drives it. */
export interface WorkerHandle {
  /** Resolves once the worker has loaded its target; rejects with the reason it could not. */
  readonly ready: Promise<void>
  /** Resolves once the worker has exited, whatever the reason. */
  readonly exited: Promise<WorkerExit>
  /** Ends the worker now (terminate a thread, kill a process). */
  kill(): void
  /** Whether the worker keeps the producer's process alive. */
  setRef(ref: boolean): void
}

/** Starts a worker for `slot` that attaches to the engine as instance `workerId`. */
export type Spawner = (slot: number, workerId: number) => WorkerHandle

/** Replacements that fail to start are retried this many times in a row before a slot is given up. */
const MAX_CONSECUTIVE_FAILURES = 5
const BACKOFF_MS = [0, 100, 400, 1600, 5000]

interface Slot {
  workerId: number
  handle: WorkerHandle
  ready: boolean
}

export class Supervisor {
  readonly #native: NativePoolType
  readonly #spawn: Spawner
  readonly #logger: Logger
  readonly #onExitCause: (slot: number, cause: unknown) => void
  readonly #slots: (Slot | null)[]
  readonly #failures: number[]
  readonly #pending = new Set<Promise<void>>()
  readonly #timers = new Set<NodeJS.Timeout>()
  #started = false
  #stopping = false
  #ref = true

  constructor(
    native: NativePoolType,
    spawn: Spawner,
    count: number,
    logger: Logger,
    onExitCause: (slot: number, cause: unknown) => void,
  ) {
    this.#native = native
    this.#spawn = spawn
    this.#logger = logger
    this.#onExitCause = onExitCause
    this.#slots = new Array<Slot | null>(count).fill(null)
    this.#failures = new Array<number>(count).fill(0)
  }

  get size(): number {
    return this.#slots.length
  }

  /** Starts every slot; rejects (with every worker stopped again) if any cannot load the target. */
  async start(display: string): Promise<void> {
    const handles = this.#slots.map((_, slot) => this.#launch(slot))
    const results = await Promise.allSettled(handles.map((h) => h.ready))
    const failed = results.find((r): r is PromiseRejectedResult => r.status === 'rejected')
    if (failed === undefined) {
      this.#started = true
      return
    }
    await this.stop(true)
    const cause = failed.reason as Error
    throw new QdmpError(
      ErrorCode.TargetLoad,
      `cannot load target ${display}: ${cause?.message ?? String(cause)}`,
      { cause, target: display },
    )
  }

  #launch(slot: number): WorkerHandle {
    const workerId = this.#native.registerWorker(slot)
    const handle = this.#spawn(slot, workerId)
    handle.setRef(this.#ref)
    const entry: Slot = { workerId, handle, ready: false }
    this.#slots[slot] = entry
    handle.ready.then(
      () => {
        entry.ready = true
        this.#failures[slot] = 0
      },
      () => {}, // reported by start(), or by #onExit for replacements
    )
    const done = handle.exited.then((exit) => this.#onExit(slot, entry, exit))
    this.#pending.add(done)
    void done.finally(() => this.#pending.delete(done))
    return handle
  }

  #onExit(slot: number, entry: Slot, exit: WorkerExit): void {
    if (exit.error !== undefined) this.#onExitCause(slot, exit.error)
    // Settles the task the worker was running (as WorkerExited); queued tasks are untouched.
    this.#native.workerExited(entry.workerId, exit.code, exit.signal)
    if (this.#slots[slot] === entry) this.#slots[slot] = null
    // During start() a failed worker fails the start; replacing it would only hide that.
    if (this.#stopping || !this.#started) return
    if (!entry.ready) this.#failures[slot]!++
    const failures = this.#failures[slot]!
    if (failures >= MAX_CONSECUTIVE_FAILURES) {
      this.#logger.error(
        `worker ${slot} failed to start ${failures} times in a row; its slot stays empty ` +
          `(${this.liveCount} of ${this.size} workers remain)`,
        exit.error,
      )
      return
    }
    const how = exit.signal !== null ? `was killed by ${exit.signal}` : `exited with code ${exit.code}`
    this.#logger.warn(`worker ${slot} ${how}; starting a replacement`)
    const delay = BACKOFF_MS[Math.min(failures, BACKOFF_MS.length - 1)]!
    if (delay === 0) {
      this.#relaunch(slot)
      return
    }
    const timer = setTimeout(() => {
      this.#timers.delete(timer)
      if (!this.#stopping) this.#relaunch(slot)
    }, delay)
    timer.unref()
    this.#timers.add(timer)
  }

  #relaunch(slot: number): void {
    try {
      this.#launch(slot)
    } catch (error) {
      // Runs from an exit event or a timer: an exception here would have no caller to reach.
      this.#logger.error(`could not start a replacement for worker ${slot}; its slot stays empty`, error)
    }
  }

  /** Workers alive now. */
  get liveCount(): number {
    return this.#slots.filter((s) => s !== null).length
  }

  /** Whether the workers keep the process alive: only while tasks are outstanding. */
  setRef(ref: boolean): void {
    if (ref === this.#ref) return
    this.#ref = ref
    for (const slot of this.#slots) slot?.handle.setRef(ref)
  }

  /** Ends every worker now; their running tasks were already cancelled by the engine. */
  killAll(): void {
    for (const slot of this.#slots) slot?.handle.kill()
  }

  /**
   * Stops replacing workers and waits until all have exited. The engine has retired them, so
   * each exits after its current task; with `force`, they are ended at once.
   */
  async stop(force: boolean): Promise<void> {
    this.#stopping = true
    for (const timer of this.#timers) clearTimeout(timer)
    this.#timers.clear()
    this.setRef(true) // a stopping handler keeps the process alive until its workers are gone
    if (force) this.killAll()
    while (this.#pending.size > 0) await Promise.all(this.#pending)
  }
}
