#!/usr/bin/env node
/** `replicant <dev|origin|fanout|gateway>`: parses and validates config, then runs the mode. */
import { ConfigError, loadConfig, type Config } from './config.js';
import { runDev } from './dev.js';
import { runFanout, runGateway, runOrigin } from './cluster.js';

async function run(cfg: Config): Promise<void> {
  switch (cfg.mode) {
    case 'dev':
      return runDev(cfg);
    case 'origin':
      return runOrigin(cfg);
    case 'fanout':
      return runFanout(cfg);
    case 'gateway':
      return runGateway(cfg);
  }
}

let cfg: Config;
try {
  cfg = loadConfig(process.argv.slice(2));
} catch (err) {
  if (err instanceof ConfigError) {
    console.error(`replicant: ${err.message}`);
    process.exit(2);
  }
  throw err;
}
run(cfg).catch((err: Error) => {
  console.error(`replicant ${cfg.mode}: ${err instanceof ConfigError ? err.message : (err.stack ?? err.message)}`);
  process.exit(err instanceof ConfigError ? 2 : 1);
});
