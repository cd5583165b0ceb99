import closeWithGrace from 'close-with-grace'
import { RegistryError } from './assets.js'
import { ConfigError, loadConfig } from './config.js'
import { createLogger } from './logger.js'
import { startServer } from './server.js'

/** Entry point: a bad config or registry stops start-up with exit code 1 and one line. */
async function main(): Promise<void> {
  let config: ReturnType<typeof loadConfig>
  try {
    config = loadConfig()
  } catch (err) {
    if (err instanceof ConfigError) {
      process.stderr.write(`pricewire: configuration error: ${err.message}\n`)
      process.exit(1)
    }
    throw err
  }
  const logger = createLogger(config)
  let server: Awaited<ReturnType<typeof startServer>>
  try {
    server = await startServer(config, logger)
  } catch (err) {
    if (err instanceof RegistryError) {
      process.stderr.write(`pricewire: asset registry error: ${err.message}\n`)
      process.exit(1)
    }
    logger.fatal({ err }, 'start-up failed')
    logger.flush?.()
    process.exit(1)
  }
  closeWithGrace({ delay: config.shutdownMs, logger }, async ({ signal, err }) => {
    if (err) logger.error({ err }, 'shutting down after an error')
    else logger.info({ signal }, 'shutting down')
    await server.close()
    logger.flush?.()
  })
}

void main()
