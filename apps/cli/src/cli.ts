/**
 * The `larder` command: `larder [-c REPO_DIR] COMMAND`. Exit code 0 on success, non-zero with
 * a one-line reason on failure.
 */
import { isAbsolute, resolve } from 'node:path'
import { FeatureStore, LarderError, type MaterializeViewResult } from '@larder/core'
import { writeTableFile } from '@larder/file'
import { Command, CommanderError } from 'commander'
import { initRepo } from './commands/init.js'
import { errorLine, table } from './output.js'
import { ProgressPrinter } from './progress.js'

function splitList(value: string | undefined): string[] | undefined {
  if (value === undefined) return undefined
  const items = value
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean)
  return items.length ? items : undefined
}

function summary(results: MaterializeViewResult[]): string {
  const rows = results.reduce((a, r) => a + r.rowsWritten, 0)
  return `Materialized ${results.length} view(s), ${rows.toLocaleString('en-US')} row(s) written`
}

function parseJsonOption(text: string, option: string): unknown {
  try {
    return JSON.parse(text)
  } catch {
    throw new LarderError(
      'INVALID_INPUT',
      `${option} is not valid JSON: ${text.length > 60 ? `${text.slice(0, 57)}...` : text}`,
      {
        hint: `e.g. ${option} '{"driver_id": [1001, 1002]}'`,
      },
    )
  }
}

/** Where the CLI writes; tests capture it. */
export interface Io {
  out: (text: string) => void
  err: (text: string) => void
}

const defaultIo: Io = {
  out: (t) => process.stdout.write(`${t}\n`),
  err: (t) => process.stderr.write(`${t}\n`),
}

/** Builds the command tree. */
export function buildProgram(io: Io = defaultIo): Command {
  const program = new Command('larder')
    .description('Larder: a feature store for Node and TypeScript')
    .option('-c, --chdir <repo>', 'the feature repo folder', '.')
    .showHelpAfterError('(run with --help for usage)')
    .configureOutput({ writeOut: (s) => io.out(s.trimEnd()), writeErr: (s) => io.err(s.trimEnd()) })
    .exitOverride()

  const repoDir = () =>
    resolve(process.env.INIT_CWD ?? process.cwd(), program.opts<{ chdir: string }>().chdir)
  const withStore = async <T>(fn: (store: FeatureStore) => Promise<T>): Promise<T> => {
    const store = await FeatureStore.open(repoDir())
    try {
      return await fn(store)
    } finally {
      await store.close()
    }
  }

  program
    .command('init')
    .description('create a feature repo with the driver example and its data')
    .argument('<dir>', 'folder to create')
    .option('--force', 'write into a folder that is not empty')
    .action(async (dir: string, opts: { force?: boolean }) => {
      const target = await initRepo(resolve(process.env.INIT_CWD ?? process.cwd(), dir), {
        force: !!opts.force,
      })
      io.out(`Created a feature repo in ${target}`)
      io.out(`Next: larder -c ${dir} apply`)
    })

  program
    .command('plan')
    .description('show what apply would change in the registry')
    .option('--skip-source-validation', 'do not check views against their sources')
    .action(async (opts: { skipSourceValidation?: boolean }) => {
      await withStore(async (store) => {
        const plan = await store.plan({ skipSourceValidation: !!opts.skipSourceValidation })
        io.out(plan.text)
      })
    })

  program
    .command('apply')
    .description('register the repo definitions and create their online tables')
    .option('--skip-source-validation', 'do not check views against their sources')
    .action(async (opts: { skipSourceValidation?: boolean }) => {
      await withStore(async (store) => {
        const result = await store.apply({ skipSourceValidation: !!opts.skipSourceValidation })
        io.out(result.text)
        if (result.changes.length > 0)
          io.out(`Registry version ${result.version} written to ${store.registry.path}`)
      })
    })

  program
    .command('teardown')
    .description('remove the online tables and the registry of the repo')
    .action(async () => {
      await withStore(async (store) => {
        const { views } = await store.teardown()
        io.out(
          `Removed ${views.length} view(s) from the online store and deleted ${store.registry.path}`,
        )
      })
    })

  program
    .command('materialize')
    .description('copy the latest values with START <= event time <= END to the online store')
    .argument('<start>', "ISO-8601 time or 'now'")
    .argument('<end>', "ISO-8601 time or 'now'")
    .option('--views <names>', 'comma-separated views (default: every online view)')
    .action(async (start: string, end: string, opts: { views?: string }) => {
      await withStore(async (store) => {
        const progress = new ProgressPrinter()
        const views = splitList(opts.views)
        const results = await store.materialize(start, end, {
          onProgress: progress.update,
          ...(views ? { views } : {}),
        })
        io.out(summary(results))
      })
    })

  program
    .command('materialize-incremental')
    .description('materialize each online view from where it was last materialized up to END')
    .argument('<end>', "ISO-8601 time or 'now'")
    .option('--views <names>', 'comma-separated views (default: every online view)')
    .action(async (end: string, opts: { views?: string }) => {
      await withStore(async (store) => {
        const progress = new ProgressPrinter()
        const views = splitList(opts.views)
        const results = await store.materializeIncremental(end, {
          onProgress: progress.update,
          ...(views ? { views } : {}),
        })
        io.out(summary(results))
      })
    })

  program
    .command('get-historical-features')
    .description('build a training set with a point-in-time join and write it to a file')
    .requiredOption('--entity-df <file>', 'entity rows with timestamps (Parquet or CSV)')
    .option('--features <refs>', 'comma-separated view:feature references')
    .option('--feature-service <name>', 'a feature service instead of --features')
    .option('--full-feature-names', 'name columns view__feature')
    .requiredOption('--output <file>', 'where to write the result (.parquet or .csv)')
    .action(
      async (opts: {
        entityDf: string
        features?: string
        featureService?: string
        fullFeatureNames?: boolean
        output: string
      }) => {
        const cwd = process.env.INIT_CWD ?? process.cwd()
        const abs = (p: string) => (isAbsolute(p) ? p : resolve(cwd, p))
        await withStore(async (store) => {
          const features = splitList(opts.features)
          const job = await store.getHistoricalFeatures({
            entityDf: { path: abs(opts.entityDf) },
            ...(features ? { features } : {}),
            ...(opts.featureService ? { featureService: opts.featureService } : {}),
            fullFeatureNames: !!opts.fullFeatureNames,
          })
          const result = await job.toArrow()
          await writeTableFile(result, abs(opts.output))
          io.out(
            `Wrote ${result.numRows.toLocaleString('en-US')} rows x ${result.numCols} columns to ${abs(opts.output)}`,
          )
        })
      },
    )

  program
    .command('get-online-features')
    .description("read online features and print the feature server's JSON")
    .requiredOption(
      '--entities <json>',
      'entity rows column-major, e.g. \'{"driver_id": [1001, 1002]}\'',
    )
    .option('--features <refs>', 'comma-separated view:feature references')
    .option('--feature-service <name>', 'a feature service instead of --features')
    .option('--full-feature-names', 'name outputs view__feature')
    .action(
      async (opts: {
        entities: string
        features?: string
        featureService?: string
        fullFeatureNames?: boolean
      }) => {
        const entities = parseJsonOption(opts.entities, '--entities')
        if (!entities || typeof entities !== 'object' || Array.isArray(entities)) {
          throw new LarderError(
            'INVALID_INPUT',
            '--entities must be a JSON object of columns, e.g. {"driver_id": [1001]}',
          )
        }
        await withStore(async (store) => {
          const features = splitList(opts.features)
          const response = await store.getOnlineFeatures({
            entities: entities as Record<string, unknown[]>,
            ...(features ? { features } : {}),
            ...(opts.featureService ? { featureService: opts.featureService } : {}),
            fullFeatureNames: !!opts.fullFeatureNames,
          })
          io.out(JSON.stringify(response.toJSON(), null, 2))
        })
      },
    )

  program
    .command('serve')
    .description('start the HTTP feature server (Feast-compatible JSON API)')
    .option(
      '--host <host>',
      'address to bind (0.0.0.0 exposes it beyond this machine)',
      '127.0.0.1',
    )
    .option('--port <port>', 'port to listen on', '6566')
    .option('--registry-ttl <seconds>', 'how often the registry is reloaded', '60')
    .option(
      '--auth-token <token>',
      'require Authorization: Bearer <token> (default: env LARDER_AUTH_TOKEN)',
    )
    .option('--key <file>', 'TLS private key (PEM); with --cert serves HTTPS')
    .option('--cert <file>', 'TLS certificate (PEM)')
    .option('--max-entity-rows <n>', 'most entity rows per request (413 beyond)', '1000')
    .option('--body-limit <bytes>', 'largest request body (413 beyond)', '1048576')
    .action(
      async (opts: {
        host: string
        port: string
        registryTtl: string
        authToken?: string
        key?: string
        cert?: string
        maxEntityRows: string
        bodyLimit: string
      }) => {
        const number = (value: string, option: string) => {
          const n = Number(value)
          if (!Number.isInteger(n) || n < 0)
            throw new LarderError(
              'INVALID_INPUT',
              `${option} must be a whole number, got '${value}'`,
            )
          return n
        }
        if (!!opts.key !== !!opts.cert)
          throw new LarderError('INVALID_INPUT', '--key and --cert go together (both PEM files)')
        const { startFeatureServer } = await import('@larder/server')
        const store = await FeatureStore.open(repoDir())
        // Runs until SIGTERM/SIGINT: the server drains in-flight requests and closes the store.
        await new Promise<void>((resolveShutdown, rejectStart) => {
          startFeatureServer(store, {
            host: opts.host,
            port: number(opts.port, '--port'),
            registryTtlSeconds: number(opts.registryTtl, '--registry-ttl'),
            maxEntityRows: number(opts.maxEntityRows, '--max-entity-rows'),
            bodyLimit: number(opts.bodyLimit, '--body-limit'),
            ...(opts.authToken ? { authToken: opts.authToken } : {}),
            ...(opts.key && opts.cert
              ? { tls: { key: resolve(opts.key), cert: resolve(opts.cert) } }
              : {}),
            onShutdown: (_signal, err) => (err ? rejectStart(err) : resolveShutdown()),
          }).catch(rejectStart)
        })
      },
    )

  program
    .command('registry-dump')
    .description('print the registry as JSON')
    .action(async () => {
      await withStore(async (store) => {
        io.out(JSON.stringify(await store.registryDump(), null, 2))
      })
    })

  program
    .command('list')
    .description('list registered objects')
    .argument('<what>', 'entities | views | services | sources | on-demand-views')
    .action(async (what: string) => {
      await withStore(async (store) => {
        switch (what) {
          case 'entities':
            io.out(
              table(
                (await store.listEntities()).map((e) => ({
                  name: e.name,
                  join_keys: e.joinKeys.join(','),
                  type: e.valueType,
                  description: e.description ?? '',
                })),
              ),
            )
            break
          case 'views':
          case 'feature-views':
            io.out(
              table(
                (await store.listFeatureViews()).map((v) => ({
                  name: v.name,
                  kind: v.kind,
                  entities: v.entities.join(','),
                  features: v.features.map((f) => f.name).join(','),
                  ttl_s: v.ttlSeconds,
                  online: v.online,
                })),
              ),
            )
            break
          case 'services':
          case 'feature-services':
            io.out(
              table(
                (await store.listFeatureServices()).map((s) => ({
                  name: s.name,
                  features: s.features
                    .map((p) => `${p.name ?? p.view}:${p.features?.join('|') ?? '*'}`)
                    .join(','),
                })),
              ),
            )
            break
          case 'sources':
          case 'data-sources':
            io.out(
              table(
                (await store.listDataSources()).map((s) => ({
                  name: s.name,
                  kind: s.kind,
                  timestamp: s.timestampField ?? '',
                })),
              ),
            )
            break
          case 'on-demand-views':
            io.out(
              table(
                (await store.listOnDemandFeatureViews()).map((v) => ({
                  name: v.name,
                  sources: v.sources.map((s) => s.view).join(','),
                  features: v.features.map((f) => f.name).join(','),
                })),
              ),
            )
            break
          default:
            throw new CommanderError(
              2,
              'larder.list',
              `error: cannot list '${what}': use entities, views, services, sources or on-demand-views`,
            )
        }
      })
    })

  return program
}

/**
 * Runs the CLI with `argv` (without `node` and the script) and resolves to the exit code.
 */
export async function run(argv: string[], io: Io = defaultIo): Promise<number> {
  const program = buildProgram(io)
  try {
    await program.parseAsync(argv, { from: 'user' })
    return 0
  } catch (err) {
    if (err instanceof CommanderError) {
      if (
        err.code === 'commander.helpDisplayed' ||
        err.code === 'commander.version' ||
        err.exitCode === 0
      )
        return 0
      if (err.code === 'larder.list') io.err(err.message)
      return err.exitCode || 2
    }
    io.err(errorLine(err))
    if (process.env.LARDER_DEBUG && err instanceof Error && err.stack) io.err(err.stack)
    return 1
  }
}
