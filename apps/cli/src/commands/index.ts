/**
 * Every command of the CLI, one file each, in the order `larder --help` lists them.
 */
import type { Command } from 'commander'
import type { CommandContext } from '../context.js'
import { registerApply } from './apply.js'
import { registerGetHistoricalFeatures } from './get-historical-features.js'
import { registerGetOnlineFeatures } from './get-online-features.js'
import { registerIngest } from './ingest.js'
import { registerInit } from './init.js'
import { registerList } from './list.js'
import { registerMaterialize } from './materialize.js'
import { registerMaterializeIncremental } from './materialize-incremental.js'
import { registerPlan } from './plan.js'
import { registerRegistryCopy } from './registry-copy.js'
import { registerRegistryDump } from './registry-dump.js'
import { registerServe } from './serve.js'
import { registerTeardown } from './teardown.js'

/** Adds one command to the program. */
export type RegisterCommand = (program: Command, ctx: CommandContext) => void

/** The commands, in help order. A new command adds its file here. */
export const COMMANDS: readonly RegisterCommand[] = [
  registerInit,
  registerPlan,
  registerApply,
  registerTeardown,
  registerMaterialize,
  registerMaterializeIncremental,
  registerIngest,
  registerGetHistoricalFeatures,
  registerGetOnlineFeatures,
  registerServe,
  registerRegistryDump,
  registerRegistryCopy,
  registerList,
]
