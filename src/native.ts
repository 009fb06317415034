// The one file that loads the native core. Everything else imports the binding from here.

import type * as Binding from '../native/index.js'

// The loader napi-rs generates looks for `./qdmp.<platform>.node` beside it, then for the platform
// package `qdmp-<platform>`. When neither exists its error lists every path it tried; we rethrow
// something a user can act on, with the original as `cause`.
function load(): typeof Binding {
  try {
    return require('../native/index.js') as typeof Binding
  } catch (cause) {
    const platform = `${process.platform}-${process.arch}`
    const error = new Error(
      `qdmp has no native binary for this platform (${platform}, Node ${process.version}): ` +
        `neither native/qdmp.${platform}*.node nor the package qdmp-${platform}-* could be loaded. ` +
        `Install qdmp with npm on a supported platform (optional dependencies must not be disabled), ` +
        `or build the core from source with Rust installed: run \`npm run build:native\` in the qdmp package folder.`,
      { cause },
    )
    // The core's ErrorCode enum is what failed to load, so this one code is spelled out here.
    Object.defineProperty(error, 'code', { value: 'ERR_QDMP_NATIVE_BINDING', enumerable: true })
    throw error
  }
}

const binding = load()

export const { NativePool, WorkerPort, RemotePort, ErrorCode, OutcomeKind, DecisionKind, WorkerSignal } = binding
export type DecisionKind = Binding.DecisionKind
export type OutcomeKind = Binding.OutcomeKind
export type WorkerSignal = Binding.WorkerSignal
export type {
  EngineStats,
  NativePool as NativePoolType,
  PayloadBatch,
  RunningTasks,
  WorkerPort as WorkerPortType,
} from '../native/index.js'
