/** `larder serve`: starts the HTTP feature server and runs until SIGTERM/SIGINT. */
import { resolve } from 'node:path'
import { FeatureStore, LarderError } from '@larder/core'
import type { Command } from 'commander'
import type { CommandContext } from '../context.js'
import { importOptional } from '../optional.js'
import { numberOption, PORT } from '../options.js'

/** Adds `serve` to `program`. */
export function registerServe(program: Command, ctx: CommandContext): void {
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
    .option(
      '--request-timeout <ms>',
      'deadline of each feature request; a store slower than this is a 503 (0: none)',
      '10000',
    )
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
        requestTimeout: string
      }) => {
        // Every number checked before anything starts: a bad value is one line, not a server.
        const limits = {
          port: numberOption(opts.port, '--port', PORT),
          registryTtlSeconds: numberOption(opts.registryTtl, '--registry-ttl', {
            min: 0.1,
            max: 86_400,
          }),
          maxEntityRows: numberOption(opts.maxEntityRows, '--max-entity-rows', {
            min: 1,
            max: 1_000_000,
            integer: true,
          }),
          bodyLimit: numberOption(opts.bodyLimit, '--body-limit', {
            min: 1,
            max: 1024 ** 3,
            integer: true,
          }),
          requestTimeoutMs: numberOption(opts.requestTimeout, '--request-timeout', {
            min: 0,
            max: 3_600_000,
            integer: true,
          }),
        }
        if (!!opts.key !== !!opts.cert)
          throw new LarderError('INVALID_INPUT', '--key and --cert go together (both PEM files)')
        const { startFeatureServer } = await importOptional(
          () => import('@larder/server'),
          '@larder/server',
          'larder serve',
        )
        const store = await FeatureStore.open(ctx.repoDir())
        // Runs until SIGTERM/SIGINT: the server drains in-flight requests and closes the store.
        await new Promise<void>((resolveShutdown, rejectStart) => {
          startFeatureServer(store, {
            host: opts.host,
            ...limits,
            ...(opts.authToken ? { authToken: opts.authToken } : {}),
            ...(opts.key && opts.cert
              ? { tls: { key: resolve(opts.key), cert: resolve(opts.cert) } }
              : {}),
            onShutdown: (_signal, err) => (err ? rejectStart(err) : resolveShutdown()),
          }).catch(rejectStart)
        })
      },
    )
}
