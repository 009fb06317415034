// Keeps a handler's worker slots filled: starts the workers, tells the engine when one exits (so
// that its task settles), terminates the ones the engine interrupted, and replaces workers as
// their departure calls for: at once after a crash or an interruption, when work arrives after an
// idle exit, and with back-off when replacements themselves keep failing to start.

import { constants } from 'node:os'

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

/** Why a worker could not start: its module did not load, or its `setup` failed. */
export class StartFailure extends Error {
  constructor(
    readonly stage: 'load' | 'setup',
    cause: unknown,
  ) {
    super(cause instanceof Error ? cause.message : String(cause), { cause })
  }
}

/** A running worker, thread or process, as the supervisor drives it. */
export interface WorkerHandle {
  /** Resolves once the worker has loaded its target (and run `setup`); rejects with a StartFailure. */
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

/** The handler's side of the supervisor. */
export interface SupervisorHooks {
  /** An uncaught error ended the worker of `slot` (it becomes the cause of its task's error). */
  onExitCause(slot: number, cause: unknown): void
  /**
   * The engine was told a worker exited: its task may have settled. Collect now, on this thread;
   * the engine's notification could otherwise be the only thing left to keep Node alive.
   */
  onWorkerExit(): void
  /** Every slot has given up: no worker can start. */
  onBroken(error: QdmpError): void
}

/** What `checkProcesses()` reports, one entry per worker slot. */
export interface ProcessReport {
  /** Some slot's last worker exited with a non-zero code (or a signal). */
  error: boolean
  /** Every slot's last worker did. */
  allError: boolean
  /** Some slot has no running worker. */
  exited: boolean
  /** No slot has a running worker. */
  allExited: boolean
  /** Per slot: `null` while a worker runs there, else the last exit code (a signal as `-signo`). */
  exitCodes: (number | null)[]
}

/** Replacements that fail to start are retried this many times in a row before a slot gives up. */
const MAX_CONSECUTIVE_FAILURES = 5
const BACKOFF_MS = [0, 100, 400, 1600, 5000]

interface Slot {
  workerId: number
  handle: WorkerHandle
  ready: boolean
  failure?: StartFailure
  /** When the worker this one replaces left (for the replacement time). */
  replacing?: number
}

function exitCode(exit: WorkerExit): number {
  if (exit.signal !== null) return -((constants.signals as Record<string, number>)[exit.signal] ?? 0)
  return exit.code ?? 0
}

export class Supervisor {
  readonly #native: NativePoolType
  readonly #spawn: Spawner
  readonly #logger: Logger
  readonly #hooks: SupervisorHooks
  readonly #display: string
  readonly #slots: (Slot | null)[]
  readonly #idle: boolean[]
  readonly #givenUp: boolean[]
  readonly #failures: number[]
  readonly #lastExit: (number | null)[]
  readonly #timers = new Map<number, NodeJS.Timeout>()
  /** Workers detached from their slot (terminated), until they have exited. */
  readonly #zombies = new Set<WorkerHandle>()
  readonly #pending = new Set<Promise<void>>()
  #started = false
  #stopping = false
  #ref = true
  /** Replacement times (exit to ready), in ms: for benchmarks and debugging. */
  readonly replacementTimes: number[] = []

  constructor(native: NativePoolType, spawn: Spawner, count: number, logger: Logger, hooks: SupervisorHooks, display: string) {
    this.#native = native
    this.#spawn = spawn
    this.#logger = logger
    this.#hooks = hooks
    this.#display = display
    this.#slots = new Array<Slot | null>(count).fill(null)
    this.#idle = new Array<boolean>(count).fill(false)
    this.#givenUp = new Array<boolean>(count).fill(false)
    this.#failures = new Array<number>(count).fill(0)
    this.#lastExit = new Array<number | null>(count).fill(null)
  }

  get size(): number {
    return this.#slots.length
  }

  /** Starts every slot; rejects (with every worker stopped again) if any cannot start. */
  async start(): Promise<void> {
    const handles = this.#slots.map((_, slot) => this.#launch(slot))
    const results = await Promise.allSettled(handles.map((h) => h.ready))
    const index = results.findIndex((r) => r.status === 'rejected')
    if (index < 0) {
      this.#started = true
      return
    }
    await this.stop(true)
    throw this.#startError(index, (results[index] as PromiseRejectedResult).reason)
  }

  #startError(slot: number, failure: unknown): QdmpError {
    const cause = failure instanceof StartFailure ? (failure.cause as Error) : failure
    const message = cause instanceof Error ? cause.message : String(cause)
    if (failure instanceof StartFailure && failure.stage === 'setup') {
      return new QdmpError(ErrorCode.SetupFailed, `setup() failed on worker ${slot} (target ${this.#display}): ${message}`, {
        cause,
        workerId: slot,
        target: this.#display,
      })
    }
    return new QdmpError(ErrorCode.TargetLoad, `cannot load target ${this.#display}: ${message}`, { cause, target: this.#display })
  }

  #launch(slot: number, replacing?: number): WorkerHandle {
    const workerId = this.#native.registerWorker(slot)
    const handle = this.#spawn(slot, workerId)
    handle.setRef(this.#ref)
    const entry: Slot = { workerId, handle, ready: false, ...(replacing === undefined ? {} : { replacing }) }
    this.#slots[slot] = entry
    this.#idle[slot] = false
    this.#lastExit[slot] = null
    handle.ready.then(
      () => {
        entry.ready = true
        this.#failures[slot] = 0
        if (entry.replacing !== undefined) {
          const ms = performance.now() - entry.replacing
          this.replacementTimes.push(ms)
          this.#logger.debug(`worker ${slot} replaced in ${ms.toFixed(1)} ms`)
        }
      },
      (failure: unknown) => {
        entry.failure = failure instanceof StartFailure ? failure : new StartFailure('load', failure)
      },
    )
    const done = handle.exited.then((exit) => this.#onExit(slot, entry, exit))
    this.#pending.add(done)
    void done.finally(() => this.#pending.delete(done))
    return handle
  }

  #onExit(slot: number, entry: Slot, exit: WorkerExit): void {
    this.#zombies.delete(entry.handle)
    if (exit.error !== undefined) this.#hooks.onExitCause(slot, exit.error)
    // Settles the task the worker was running (as WorkerExited); queued tasks are untouched.
    const departure = this.#native.workerExited(entry.workerId, exit.code, exit.signal)
    this.#hooks.onWorkerExit()
    if (this.#slots[slot] !== entry) return // detached earlier: its replacement is already running
    this.#slots[slot] = null
    this.#lastExit[slot] = exitCode(exit)
    if (this.#stopping || !this.#started) return
    const left = performance.now()
    if (departure === 'idle') {
      this.#idle[slot] = true
      if (this.#native.stats().pending > 0) this.#relaunch(slot, left)
      return
    }
    if (!entry.ready) this.#failures[slot]!++
    const failures = this.#failures[slot]!
    if (failures >= MAX_CONSECUTIVE_FAILURES) {
      this.#giveUp(slot, entry.failure)
      return
    }
    if (departure === 'unexpected') {
      const how = exit.signal !== null ? `was killed by ${exit.signal}` : `exited with code ${exit.code}`
      const why = entry.failure ? ` while starting (${entry.failure.message})` : ''
      this.#logger.warn(`worker ${slot} ${how}${why}; starting a replacement`)
    }
    const delay = BACKOFF_MS[Math.min(failures, BACKOFF_MS.length - 1)]!
    if (delay === 0) {
      this.#relaunch(slot, left)
      return
    }
    const timer = setTimeout(() => {
      this.#timers.delete(slot)
      if (!this.#stopping) this.#relaunch(slot, left)
    }, delay)
    // While tasks wait for this replacement, its timer keeps the process alive, as a worker would.
    if (!this.#ref) timer.unref()
    this.#timers.set(slot, timer)
  }

  #giveUp(slot: number, failure: StartFailure | undefined): void {
    this.#givenUp[slot] = true
    const error = this.#startError(slot, failure ?? new StartFailure('load', new Error('the worker kept exiting while starting')))
    this.#logger.error(
      `worker ${slot} failed to start ${MAX_CONSECUTIVE_FAILURES} times in a row; its slot stays empty ` +
        `(${this.liveCount} of ${this.size} workers remain): ${error.message}`,
    )
    if (this.#givenUp.every(Boolean)) this.#hooks.onBroken(error)
  }

  #relaunch(slot: number, replacing?: number): void {
    try {
      this.#launch(slot, replacing)
    } catch (error) {
      // Runs from an exit event or a timer: an exception here would have no caller to reach.
      this.#logger.error(`could not start a replacement for worker ${slot}; its slot stays empty`, error)
    }
  }

  /** Ends the workers the engine interrupted and puts replacements in their slots at once. */
  terminate(workerIds: ArrayLike<number>): void {
    for (let i = 0; i < workerIds.length; i++) {
      const slot = this.#slots.findIndex((s) => s?.workerId === workerIds[i])
      if (slot < 0) continue
      const entry = this.#slots[slot]!
      // Detach first: a thread stuck in native code may take long to die, and its slot must not wait.
      this.#slots[slot] = null
      this.#zombies.add(entry.handle)
      entry.handle.kill()
      if (!this.#stopping) this.#relaunch(slot, performance.now())
    }
  }

  /** Starts workers in slots left empty by idle exits (work has arrived). */
  ensureWorkers(): void {
    if (this.#stopping || !this.#started) return
    this.#idle.forEach((idle, slot) => {
      if (idle && this.#slots[slot] === null) this.#relaunch(slot)
    })
  }

  /** Workers alive now (in their slots). */
  get liveCount(): number {
    return this.#slots.filter((s) => s !== null).length
  }

  /** Per-slot exit state, as the Python library's `check_processes` meant it. */
  report(): ProcessReport {
    const exitCodes = this.#slots.map((slot, i) => (slot !== null ? null : (this.#lastExit[i] ?? 0)))
    const ended = exitCodes.filter((c): c is number => c !== null)
    return {
      error: ended.some((c) => c !== 0),
      allError: exitCodes.length > 0 && exitCodes.every((c) => c !== null && c !== 0),
      exited: ended.length > 0,
      allExited: ended.length === exitCodes.length,
      exitCodes,
    }
  }

  /** Whether the workers keep the process alive: only while tasks are outstanding. */
  setRef(ref: boolean): void {
    if (ref === this.#ref) return
    this.#ref = ref
    for (const slot of this.#slots) slot?.handle.setRef(ref)
    for (const timer of this.#timers.values()) (ref ? timer.ref() : timer.unref())
  }

  /** Ends every worker now; their running tasks were already cancelled by the engine. */
  killAll(): void {
    for (const slot of this.#slots) slot?.handle.kill()
    for (const zombie of this.#zombies) zombie.kill()
  }

  /**
   * Stops replacing workers and waits until all have exited. The engine has retired them, so
   * each exits after its current task; with `force`, they are ended at once.
   */
  async stop(force: boolean): Promise<void> {
    this.#stopping = true
    for (const timer of this.#timers.values()) clearTimeout(timer)
    this.#timers.clear()
    this.setRef(true) // a stopping handler keeps the process alive until its workers are gone
    if (force) this.killAll()
    while (this.#pending.size > 0) await Promise.all(this.#pending)
  }
}
