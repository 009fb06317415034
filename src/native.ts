// The one file that loads the native core. Everything else imports the binding from here.

import type * as Binding from '../native/index.js'

/** The napi-rs name of this platform, as in the platform package `qdmp-<name>`. */
export function platformName(): string {
  const { platform, arch } = process
  if (platform === 'linux') {
    // glibc and musl need different binaries; Node reports the glibc it runs on, if any.
    const header = (process.report?.getReport() as { header?: { glibcVersionRuntime?: string } } | undefined)?.header
    return `linux-${arch}-${header?.glibcVersionRuntime ? 'gnu' : 'musl'}`
  }
  if (platform === 'win32') return `win32-${arch}-msvc`
  return `${platform}-${arch}`
}

// The loader napi-rs generates looks for `./qdmp.<platform>.node` beside it, then for the platform
// package `qdmp-<platform>`. When neither loads, its error lists every path it tried; we rethrow
// an error a user can act on, naming the platform, the package and the fix, with the original
// as `cause` and its first line in the message (a binary that exists but fails to load, for an
// older glibc say, says why there).
function load(): typeof Binding {
  try {
    return require('../native/index.js') as typeof Binding
  } catch (cause) {
    const name = platformName()
    // napi's error chains one error per place it tried; the WebAssembly fallbacks say nothing
    // useful about a missing or unloadable binary, and its own headline is generic.
    const reasons: string[] = []
    for (let e: unknown = (cause as { cause?: unknown })?.cause; e instanceof Error && reasons.length < 8; e = e.cause) {
      const line = e.message.split('\n')[0]!
      if (!/wasi|wasm/i.test(line)) reasons.push(line)
    }
    const error = new Error(
      `qdmp has no native binary that loads on this platform (${name}, Node ${process.version}): ` +
        `the package qdmp-${name} is not installed or could not be loaded (${reasons.join('; ') || 'no reason given'}). ` +
        `Reinstall qdmp with npm on a supported platform, without --omit=optional or --no-optional; ` +
        `or build the core from source with Rust (https://rustup.rs) installed: clone the qdmp repository, ` +
        `run \`npm install\` there (it builds the core), then \`npm install <path to the clone>\` in your project.`,
      { cause },
    )
    // The core's ErrorCode enum is what failed to load, so this one code is spelled out here.
    Object.defineProperty(error, 'code', { value: 'ERR_QDMP_NATIVE_BINDING', enumerable: true })
    throw error
  }
}

const binding = load()

export const { NativePool, WorkerPort, RemotePort, ErrorCode, OutcomeKind, DecisionKind, WorkerSignal, FeedResult } = binding
export type DecisionKind = Binding.DecisionKind
export type FeedResult = Binding.FeedResult
export type OutcomeKind = Binding.OutcomeKind
export type WorkerSignal = Binding.WorkerSignal
export type {
  ChildChannel as ChildChannelType,
  EngineStats,
  NativePool as NativePoolType,
  PayloadBatch,
  RunningTasks,
  WorkerPort as WorkerPortType,
} from '../native/index.js'
